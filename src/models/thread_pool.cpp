#include <stdexcept>

#include "models/factories.hpp"

namespace nm {
namespace {

// Placeholder until this model lands.
class Placeholder final : public Model {
 public:
  const ModelTraits& traits() const override {
    static const ModelTraits t{"thread-pool", "(not built yet)", "", false, false, false, false};
    return t;
  }
  void run(ServerContext&) override {
    throw std::runtime_error("model thread-pool is not built yet");
  }
};

}  // namespace

std::unique_ptr<Model> make_thread_pool_model() {
  return std::make_unique<Placeholder>();
}

}  // namespace nm
