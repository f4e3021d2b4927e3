#include <spdlog/spdlog.h>

#include <thread>

#include "models/accept_loop.hpp"
#include "models/blocking_connection.hpp"
#include "models/factories.hpp"
#include "models/thread_set.hpp"

namespace nm {
namespace {

// The article's threading server: one thread per connection, blocking I/O in it. Unlike the
// article's daemon threads, every thread is joined: finished ones as the server goes, the rest
// on stop (they watch the stop pipe, so they end promptly).
class ThreadsModel final : public Model {
 public:
  const ModelTraits& traits() const override {
    static const ModelTraits t{"threads",
                               "one thread per connection, blocking I/O",
                               "a thread (a stack, 8 MiB reserved, and a kernel task) per "
                               "connection",
                               false,
                               false,
                               true,
                               false};
    return t;
  }

  void run(ServerContext& context) override {
    Admission admission(context.options.max_clients, context.options.max_per_ip);
    ThreadSet threads;
    accept_loop(context, admission, [&](Fd fd, const Address& peer) {
      threads.join_finished();
      // std::function wants a copyable body, so the descriptor travels as a plain int.
      int raw = fd.release();
      bool started = threads.start([&context, &admission, peer, raw] {
        serve_blocking(Fd(raw), peer, context);
        admission.release(peer);
      });
      if (!started) {
        ::close(raw);
        admission.release(peer);
      }
    });
    threads.join_all();
  }
};

}  // namespace

std::unique_ptr<Model> make_threads_model() {
  return std::make_unique<ThreadsModel>();
}

}  // namespace nm
