#include "models/accept_loop.hpp"
#include "models/blocking_connection.hpp"
#include "models/factories.hpp"

namespace nm {
namespace {

// The article's loop server: accept one client, serve it to its end, then the next. The others
// wait in the listen backlog meanwhile.
class IterativeModel final : public Model {
 public:
  const ModelTraits& traits() const override {
    static const ModelTraits t{"iterative",
                               "one connection at a time, served to its end in the main thread",
                               "nothing per connection; every other client waits in the backlog",
                               true,
                               false,
                               false,
                               false};
    return t;
  }

  void run(ServerContext& context) override {
    Admission admission(context.options.max_clients, context.options.max_per_ip);
    accept_loop(context, admission, [&](Fd fd, const Address& peer) {
      serve_blocking(std::move(fd), peer, context);
      admission.release(peer);
    });
  }
};

}  // namespace

std::unique_ptr<Model> make_iterative_model() {
  return std::make_unique<IterativeModel>();
}

}  // namespace nm
