#include "models/event_model.hpp"
#include "models/factories.hpp"

namespace nm {
namespace {

class EpollEtModel final : public EventModel {
 public:
  EpollEtModel() : EventModel([] { return make_epoll_poller(true); }) {}
  const ModelTraits& traits() const override {
    static const ModelTraits t{
        "epoll-et",
        "epoll(7) edge-triggered in one thread; reads and writes until EAGAIN",
        "a descriptor, an epoll entry and a few hundred bytes per connection",
        false,
        false,
        false,
        true};
    return t;
  }
};

}  // namespace

std::unique_ptr<Model> make_epoll_et_model() {
  return std::make_unique<EpollEtModel>();
}

}  // namespace nm
