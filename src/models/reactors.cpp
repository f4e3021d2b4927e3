#include <spdlog/spdlog.h>

#include <thread>
#include <vector>

#include "models/event_server.hpp"
#include "models/factories.hpp"
#include "net/logfmt.hpp"
#include "net/socket.hpp"

namespace nm {
namespace {

// One epoll loop per core, muduo's "one loop per thread" and nginx's workers. Each loop has its
// own listening socket on the same port (SO_REUSEPORT), so the kernel spreads new connections
// over the loops and no connection ever moves between threads: nothing on the hot path takes a
// lock. (One acceptor handing connections round-robin would balance better with few
// connections, but needs a cross-thread hand-off per connection; with SO_REUSEPORT the
// kernel's hash does it for free.) Only Admission, touched once per connect and close, is shared.
class ReactorsModel final : public Model {
 public:
  const ModelTraits& traits() const override {
    static const ModelTraits t{
        "reactors",
        "one epoll loop per core (--workers), each with its own SO_REUSEPORT listener",
        "a descriptor, an epoll entry and a few hundred bytes per connection; a thread per core",
        false,
        false,
        true,
        true};
    return t;
  }

  void run(ServerContext& context) override {
    unsigned loops = worker_count(context.options);
    // Loop 0 takes the context's listeners; every other loop gets its own copies on the same
    // addresses (the plain one, then the implicit-TLS one).
    std::vector<std::vector<int>> per_loop(loops, listeners(context));
    std::vector<Fd> copies;
    for (int fd : per_loop[0]) set_nonblocking(fd, true);
    for (unsigned i = 1; i < loops; ++i) {
      for (auto& fd : per_loop[i]) {
        Address address = local_address(fd);
        copies.push_back(listen_on(address, ListenOptions{.backlog = context.options.backlog,
                                                          .reuse_port = true,
                                                          .nonblocking = true,
                                                          .join = true}));
        fd = copies.back().get();
      }
    }
    Admission admission(context.options.max_clients, context.options.max_per_ip);
    WorkPool pool;  // one for every loop: blocking work is rare, threads are not free
    std::vector<std::thread> threads;
    for (unsigned i = 0; i < loops; ++i) {
      threads.emplace_back([&context, &admission, &pool, fds = per_loop[i]] {
        try {
          EventLoop loop(make_epoll_poller(false));
          EventServer server(loop, fds, context, admission, pool);
          server.run();
        } catch (const std::exception& e) {
          spdlog::error("event=loop-failed error={}", logfmt_value(e.what()));
        }
      });
    }
    for (auto& t : threads) t.join();
  }
};

}  // namespace

std::unique_ptr<Model> make_reactors_model() {
  return std::make_unique<ReactorsModel>();
}

}  // namespace nm
