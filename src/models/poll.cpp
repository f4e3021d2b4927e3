#include "models/event_model.hpp"
#include "models/factories.hpp"

namespace nm {
namespace {

class PollModel final : public EventModel {
 public:
  PollModel() : EventModel([] { return make_poll_poller(); }) {}
  const ModelTraits& traits() const override {
    static const ModelTraits t{
        "poll",
        "poll(2) in one thread; the whole pollfd array is scanned every wait",
        "a descriptor, a pollfd (8 bytes) and a few hundred bytes per connection",
        false,
        false,
        false,
        true};
    return t;
  }
};

}  // namespace

std::unique_ptr<Model> make_poll_model() {
  return std::make_unique<PollModel>();
}

}  // namespace nm
