#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <system_error>

#include "models/blocking_connection.hpp"
#include "models/child_processes.hpp"
#include "models/factories.hpp"
#include "models/worker_table.hpp"
#include "net/logfmt.hpp"
#include "net/socket.hpp"
#include "server/acceptor.hpp"
#include "server/client_limit.hpp"

namespace nm {
namespace {

// Apache's prefork, adaptive like its MPM: processes share the listening socket, each accepting
// and serving one connection at a time. --workers are forked at start; the parent keeps at least
// kMinSpare of them idle, forking more up to --max-workers as connections arrive, and a worker
// idle for kRetireAfter leaves while more than kMaxSpare are idle, down to --workers. The
// admission limits (--max-clients, --max-per-ip) and the pool's counts live in a WorkerTable
// that every process shares. The parent only keeps the pool, and on SIGTERM stops listening and
// drains it (the workers drain their sessions), then stops what is left.
class PreforkModel final : public Model {
 public:
  static constexpr size_t kMinSpare = 1;
  static constexpr size_t kMaxSpare = 3;
  static constexpr int kRetireAfterMs = 10000;

  const ModelTraits& traits() const override {
    static const ModelTraits t{
        "prefork",
        "processes forked ahead share the listener, one connection each at a time; the pool "
        "grows with the load (--workers to --max-workers)",
        "a process per concurrent connection, forked ahead of need; extra clients past "
        "--max-workers wait in the backlog",
        true,
        true,
        false,
        false};
    return t;
  }

  void run(ServerContext& context) override {
    const auto& options = context.options;
    size_t ceiling = std::max<size_t>(1, options.max_workers);
    // With --max-clients, one spare past the limit is enough: its only work is the 421.
    if (options.max_clients) ceiling = std::min(ceiling, options.max_clients + kMinSpare);
    size_t start = std::min<size_t>(worker_count(options), ceiling);
    // Non-blocking: the workers race for each connection and the losers must not block.
    for (int listener : listeners(context)) set_nonblocking(listener, true);
    WorkerTable table(ceiling, options.max_clients, options.max_per_ip);
    // Workers write a byte here when they take a connection, so the parent adds a spare at once.
    int wake[2];
    if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
      throw std::system_error(errno, std::generic_category(), "pipe2");
    }
    Fd wake_read(wake[0]), wake_write(wake[1]);
    ChildProcesses children;
    auto spawn = [&]() -> bool {
      auto slot = table.reserve();
      if (!slot) return false;
      pid_t pid = children.spawn([&, slot = *slot](const StopSignals& signals) {
        context.stop_fd = signals.stop_fd;
        context.drain_fd = signals.drain_fd;
        wake_read.reset();
        worker(context, table, slot, wake_write.get(), start);
      });
      if (pid < 0) {
        spdlog::error("event=fork-failed error={}", logfmt_value(std::strerror(errno)));
        table.assign(*slot, 0);
        return false;
      }
      table.assign(*slot, pid);
      return true;
    };
    auto maintain = [&] {
      for (;;) {
        auto counts = table.counts();
        if (counts.workers >= start && counts.idle >= kMinSpare) return;
        if (!spawn()) return;
        if (counts.workers >= start) {
          spdlog::info("event=worker-added model=prefork workers={} idle={}", counts.workers + 1,
                       counts.idle + 1);
        }
      }
    };
    maintain();
    for (;;) {
      pollfd fds[4] = {{context.stop_fd, POLLIN, 0},
                       {children.exit_fd(), POLLIN, 0},
                       {wake_read.get(), POLLIN, 0},
                       {context.drain_fd, POLLIN, 0}};
      int ready = ::poll(fds, 4, -1);
      children.forward_reload();  // a SIGHUP interrupts the poll
      if (ready < 0) continue;
      if (fds[0].revents) break;
      if (fds[3].revents) {
        // The listener is shared: one shutdown here stops it in every worker at once. Then the
        // workers drain (idle ones leave), and no spare is forked any more.
        spdlog::info("event=drain listeners=closed");
        stop_listening(context);
        children.drain(context.stop_fd);
        break;
      }
      if (fds[1].revents) {
        for (pid_t pid : children.reap()) {
          // A worker that retired has freed its slot itself; one that died is replaced, and
          // what it counted by client (PROXY) is given back.
          if (table.clear(pid)) spdlog::warn("event=worker-died model=prefork pid={}", pid);
          if (context.client_limit) context.client_limit->release_process(pid);
        }
      }
      if (fds[2].revents) {
        char drain[64];
        while (::read(wake_read.get(), drain, sizeof(drain)) > 0) {
        }
      }
      maintain();
    }
    children.stop_all();
  }

 private:
  // One worker process: accept, serve to the end, again, until the stop or drain pipe is
  // readable or it retires.
  static void worker(ServerContext& context, WorkerTable& table, size_t slot, int wake_fd,
                     size_t keep) {
    std::vector<pollfd> fds{{context.stop_fd, POLLIN, 0}, {context.drain_fd, POLLIN, 0}};
    constexpr size_t kFirstListener = 2;
    std::vector<Acceptor> acceptors;
    for (int listener : listeners(context)) {
      fds.push_back({listener, POLLIN, 0});
      acceptors.emplace_back(listener);
    }
    for (;;) {
      int n = ::poll(fds.data(), fds.size(), kRetireAfterMs);
      if (n == 0) {
        if (table.retire(slot, kMaxSpare, keep)) {
          spdlog::info("event=worker-retired model=prefork pid={}", ::getpid());
          return;
        }
        continue;
      }
      if (n < 0) continue;
      if (fds[0].revents || fds[1].revents) return;
      // The first listener with a client (another worker may have taken it meanwhile).
      size_t ready = kFirstListener;
      while (ready < fds.size() && !fds[ready].revents) ++ready;
      if (ready == fds.size()) continue;
      Address peer;
      int fd = acceptors[ready - kFirstListener].accept(&peer, false);
      if (fd < 0) {
        // The parent stopped listening (a drain) just before this worker heard of it.
        if (errno == EINVAL) return;
        // Out of descriptors the listener stays readable: wait a moment instead of spinning.
        if (is_descriptor_shortage(errno)) ::poll(fds.data(), 1, 100);
        continue;
      }
      if (!table.admit(slot, peer)) {
        spdlog::warn("event=refused peer={} reason=limit", peer.to_string());
        refuse_connection(fd, context.service->refusal());
        continue;
      }
      char byte = 1;
      [[maybe_unused]] auto w = ::write(wake_fd, &byte, 1);
      serve_blocking(Fd(fd), peer, context);
      table.release(slot);
    }
  }
};

}  // namespace

std::unique_ptr<Model> make_prefork_model() {
  return std::make_unique<PreforkModel>();
}

}  // namespace nm
