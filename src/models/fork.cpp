#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <map>
#include <system_error>

#include "models/accept_loop.hpp"
#include "models/blocking_connection.hpp"
#include "models/child_processes.hpp"
#include "models/factories.hpp"
#include "net/logfmt.hpp"
#include "net/signals.hpp"
#include "server/client_limit.hpp"

namespace nm {
namespace {

// The article's fork server: the parent accepts and forks one child per connection; the child
// serves it and exits. Unlike the article, SIGCHLD is not ignored: the parent reaps each child
// as soon as it exits (no zombie), counts them for --max-clients, and waits for all on stop.
// On a drain the parent stops listening and passes the drain on (ChildProcesses::drain).
class ForkModel final : public Model {
 public:
  const ModelTraits& traits() const override {
    static const ModelTraits t{"fork",
                               "one child process per connection; the parent accepts",
                               "a process (its own address space and kernel task) per connection",
                               false,
                               true,
                               false,
                               false};
    return t;
  }

  void run(ServerContext& context) override {
    ChildProcesses children;
    Admission admission(context.options.max_clients, context.options.max_per_ip);
    std::map<pid_t, Address> peers;
    auto reap = [&] {
      for (pid_t pid : children.reap()) {
        // The child counted its client (PROXY: by the header, after the fork) in the shared
        // ClientLimit; one killed before it could give that back is given back here.
        if (context.client_limit) context.client_limit->release_process(pid);
        auto it = peers.find(pid);
        if (it != peers.end()) {
          admission.release(it->second);
          peers.erase(it);
        }
      }
    };
    accept_loop(
        context, admission,
        [&](Fd fd, const Address& peer) {
          pid_t pid = children.spawn([&](const StopSignals& signals) {
            context.listener.reset();
            context.implicit_listener.reset();
            context.stop_fd = signals.stop_fd;
            context.drain_fd = signals.drain_fd;
            serve_blocking(std::move(fd), peer, context);
          });
          if (pid < 0) {
            spdlog::error("event=fork-failed error={}", logfmt_value(std::strerror(errno)));
            admission.release(peer);
            return;
          }
          peers[pid] = peer;
        },
        children.exit_fd(), reap);
    context.listener.reset();
    context.implicit_listener.reset();
    children.drain(context.stop_fd);
    children.stop_all();
  }
};

}  // namespace

std::unique_ptr<Model> make_fork_model() {
  return std::make_unique<ForkModel>();
}

}  // namespace nm
