#include <stdexcept>

#include "models/factories.hpp"
#include "uring/ring.hpp"
#include "uring/server.hpp"

namespace nm {
namespace {

class UringModel final : public Model {
 public:
  const ModelTraits& traits() const override {
    static const ModelTraits t{
        "uring",
        "io_uring in one thread: the kernel completes accepts, reads, sends and file transfers",
        "a descriptor and ~0.5 KiB per connection; kernel-side rings and a shared receive pool",
        false,
        false,
        false,
        true};
    return t;
  }
  std::string unavailable() const override {
    // A one-entry ring answers the question the real one would fail on later.
    try {
      uring::Ring probe(1);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return {};
  }
  void run(ServerContext& context) override {
    uring::Server server(context);
    server.run();
  }
};

}  // namespace

std::unique_ptr<Model> make_uring_model() {
  return std::make_unique<UringModel>();
}

}  // namespace nm
