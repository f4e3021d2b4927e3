#include "models/event_model.hpp"
#include "models/factories.hpp"

namespace nm {
namespace {

class EpollModel final : public EventModel {
 public:
  EpollModel() : EventModel([] { return make_epoll_poller(false); }) {}
  const ModelTraits& traits() const override {
    static const ModelTraits t{
        "epoll",
        "epoll(7) level-triggered in one thread; the kernel keeps the interest set",
        "a descriptor, an epoll entry and a few hundred bytes per connection",
        false,
        false,
        false,
        true};
    return t;
  }
};

}  // namespace

std::unique_ptr<Model> make_epoll_model() {
  return std::make_unique<EpollModel>();
}

}  // namespace nm
