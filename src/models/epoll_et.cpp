#include <stdexcept>

#include "models/factories.hpp"

namespace nm {
namespace {

// Placeholder until this model lands.
class Placeholder final : public Model {
 public:
  const ModelTraits& traits() const override {
    static const ModelTraits t{"epoll-et", "(not built yet)", "", false, false, false, false};
    return t;
  }
  void run(ServerContext&) override { throw std::runtime_error("model epoll-et is not built yet"); }
};

}  // namespace

std::unique_ptr<Model> make_epoll_et_model() {
  return std::make_unique<Placeholder>();
}

}  // namespace nm
