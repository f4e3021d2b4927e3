#include <stdexcept>

#include "models/factories.hpp"

namespace nm {
namespace {

// Placeholder until this model lands.
class Placeholder final : public Model {
 public:
  const ModelTraits& traits() const override {
    static const ModelTraits t{"uring", "(not built yet)", "", false, false, false, false};
    return t;
  }
  std::string unavailable() const override { return "not built yet"; }
  void run(ServerContext&) override { throw std::runtime_error("model uring is not built yet"); }
};

}  // namespace

std::unique_ptr<Model> make_uring_model() {
  return std::make_unique<Placeholder>();
}

}  // namespace nm
