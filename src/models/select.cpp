#include "models/event_model.hpp"
#include "models/factories.hpp"

namespace nm {
namespace {

class SelectModel final : public EventModel {
 public:
  SelectModel() : EventModel([] { return make_select_poller(); }) {}
  const ModelTraits& traits() const override {
    static const ModelTraits t{
        "select",
        "select(2) in one thread; fd_set bitmaps rebuilt for every wait",
        "a descriptor and a few hundred bytes per connection; none at or past FD_SETSIZE (1024)",
        false,
        false,
        false,
        true};
    return t;
  }
};

}  // namespace

std::unique_ptr<Model> make_select_model() {
  return std::make_unique<SelectModel>();
}

}  // namespace nm
