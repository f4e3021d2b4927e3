#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <thread>

#include "models/blocking_connection.hpp"
#include "models/child_processes.hpp"
#include "models/factories.hpp"
#include "net/logfmt.hpp"
#include "net/socket.hpp"
#include "server/acceptor.hpp"

namespace nm {
namespace {

// Apache's prefork: N processes forked at start share the listening socket, each accepting and
// serving one connection at a time. The parent only keeps N alive (a worker that dies is
// replaced) and stops them all on SIGTERM. The kernel wakes one waiting accept() per connection.
class PreforkModel final : public Model {
 public:
  const ModelTraits& traits() const override {
    static const ModelTraits t{
        "prefork",
        "N processes forked at start share the listener, one connection each at a time",
        "a process per concurrent connection, forked once at start; extra clients wait in the "
        "backlog",
        true,
        true,
        false,
        false};
    return t;
  }

  void run(ServerContext& context) override {
    unsigned workers = worker_count(context.options);
    // Non-blocking: the workers race for each connection and the losers must not block.
    set_nonblocking(context.listener.get(), true);
    ChildProcesses children;
    auto spawn = [&] {
      if (children.spawn([&] { worker(context); }) < 0) {
        spdlog::error("event=fork-failed error={}", logfmt_value(std::strerror(errno)));
      }
    };
    for (unsigned i = 0; i < workers; ++i) spawn();
    for (;;) {
      pollfd fds[2] = {{context.stop_fd, POLLIN, 0}, {children.exit_fd(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) continue;
      if (fds[0].revents) break;
      for (pid_t pid : children.reap()) {
        spdlog::warn("event=worker-replaced model=prefork pid={}", pid);
        spawn();
      }
    }
    children.stop_all();
  }

 private:
  // One worker process: accept, serve to the end, again, until the stop pipe is readable.
  // (--max-clients is the number of workers here; --max-per-ip would need state shared between
  // processes and is not enforced by this model.)
  static void worker(ServerContext& context) {
    Acceptor acceptor(context.listener.get());
    for (;;) {
      pollfd fds[2] = {{context.stop_fd, POLLIN, 0}, {context.listener.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) continue;
      if (fds[0].revents) return;
      Address peer;
      int fd = acceptor.accept(&peer, false);
      if (fd < 0) {
        // Out of descriptors the listener stays readable: wait a moment instead of spinning.
        if (is_descriptor_shortage(errno)) ::poll(fds, 1, 100);
        continue;
      }
      serve_blocking(Fd(fd), peer, context);
    }
  }
};

}  // namespace

std::unique_ptr<Model> make_prefork_model() {
  return std::make_unique<PreforkModel>();
}

}  // namespace nm
