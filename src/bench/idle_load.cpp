#include "bench/idle_load.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include "bench/echo_load.hpp"
#include "bench/event_loop.hpp"
#include "bench/ftp_client.hpp"
#include "net/socket.hpp"

namespace nm::bench {
namespace {

// One thread is plenty: idle connections cost the load generator nothing but a slot in epoll.
void echo_idle(const Target& target, const IdleOptions& options, IdleResult* result,
               const std::function<void()>& between) {
  IdleCrowd crowd(target, options.connections, options.timeout);
  result->opened = crowd.opened();
  result->open_seconds = crowd.open_seconds();
  progress(fmt::format("idle: {} of {} connections open", result->opened, options.connections));

  // Each sends one byte and waits for it back: the server still serves every one of them.
  Epoll epoll;
  std::vector<bool> answered(crowd.fds().size(), false);
  int waiting = 0;
  for (size_t i = 0; i < crowd.fds().size(); ++i) {
    Fd& fd = crowd.fds()[i];
    if (::send(fd.get(), "x", 1, MSG_NOSIGNAL) != 1) continue;
    epoll.add(fd.get(), EPOLLIN, reinterpret_cast<void*>(i));
    ++waiting;
  }
  std::vector<epoll_event> events(1024);
  uint64_t deadline = now_ns() + seconds_ns(options.timeout);
  while (waiting > 0 && now_ns() < deadline) {
    int n = epoll.wait(events.data(), static_cast<int>(events.size()), 100);
    for (int e = 0; e < n; ++e) {
      auto i = reinterpret_cast<size_t>(events[e].data.ptr);
      Fd& fd = crowd.fds()[i];
      if (answered[i] || !fd) continue;
      char byte;
      ssize_t got = ::recv(fd.get(), &byte, 1, 0);
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      --waiting;
      if (got == 1) {
        answered[i] = true;
        ++result->answered;
      } else {
        epoll.remove(fd.get());
        fd.reset();
      }
    }
  }
  // The connections stay open while the server's memory is read.
  between();
}

void ftp_idle(const Target& target, const IdleOptions& options, IdleResult* result,
              const std::function<void()>& between) {
  FtpWorker worker(target, options.connections);
  FtpWorkerOptions open;
  open.script = {{StepKind::kLogin, {}, 0}, {StepKind::kHold, {}, 0}};
  // Opened a few at a time: this test is about sessions being open, and a server whose listen
  // backlog is short (vsftpd's is 32) would otherwise lose a burst of greetings to SYN cookies.
  open.max_starting = 16;
  uint64_t start = now_ns();
  open.end_ns = start + seconds_ns(options.timeout);
  worker.run(open);
  result->opened = worker.counters().held;
  result->open_seconds = static_cast<double>(now_ns() - start) / 1e9;
  progress(
      fmt::format("idle: {} of {} FTP sessions logged in", result->opened, options.connections));
  for (const auto& e : worker.counters().errors) progress("  error: " + e);

  FtpWorkerOptions check;
  check.script = {{StepKind::kNoop, {}, 0}, {StepKind::kHold, {}, 0}};
  check.max_starting = 16;
  check.end_ns = now_ns() + seconds_ns(options.timeout);
  worker.run(check);
  result->answered = worker.counters().held;
  between();
}

// One session opened, served and closed before the first reading. What the first session alone
// costs (code and libraries paged in, a table or pool made on first use) is not a cost per
// session, yet without this the crowd would be charged it: 128 KiB over 300 sessions is 440
// bytes each, a third of what epoll's sessions really take. Done the same way for every server.
void warm_up(const Target& target, const IdleOptions& options) {
  if (options.protocol == IdleProtocol::kFtp) {
    FtpWorker worker(target, 1);
    FtpWorkerOptions once;
    once.script = {{StepKind::kLogin, {}, 0}, {StepKind::kQuit, {}, 0}};
    once.end_ns = now_ns() + seconds_ns(options.timeout);
    worker.run(once);
    return;
  }
  EchoOptions once;
  once.connections = 1;
  once.duration = 0.05;
  once.warmup = 0;
  run_echo(target, once);
}

}  // namespace

namespace {

// The crowd opens this many connections at a time, each batch once at most as many wait in the
// server's accept queue. All at once, 10,000 connects overflow any listen backlog: the kernel
// then completes handshakes the server never accepts (SYN cookies, dropped ACKs), the client
// believes them connected, and since an idle connection sends nothing neither side ever learns
// otherwise. Measured on epoll: 6,717 of 10,000 held by the server. Under any backlog of 128 or
// more, paced this way, none is lost.
constexpr size_t kCrowdBatch = 64;

// Waits (up to `deadline`) until the accept queue on the target's port holds at most `limit`
// connections. Returns at once when it cannot be read (a server on another host), and when the
// queue has not shrunk for a second: the server has stopped accepting (a fixed pool is full), and
// the crowd is as large as it will take. Returns whether the queue got down to `limit`.
bool wait_for_accepts(const Address& address, uint64_t limit, uint64_t deadline) {
  uint64_t lowest = UINT64_MAX;
  uint64_t shrunk_ns = now_ns();
  while (now_ns() < deadline) {
    auto queued = accept_queue(address.port(), address.is_v6());
    if (!queued) return false;
    if (*queued <= limit) return true;
    if (*queued < lowest) {
      lowest = *queued;
      shrunk_ns = now_ns();
    } else if (now_ns() - shrunk_ns > seconds_ns(1)) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

}  // namespace

IdleCrowd::IdleCrowd(const Target& target, int count, double timeout) {
  struct Pending {
    Fd fd;
    bool done = false;
  };
  Epoll epoll;
  std::vector<Pending> conns(static_cast<size_t>(std::max(count, 0)));
  auto overflows_before = netstat_counter("TcpExt", "ListenOverflows");
  uint64_t start = now_ns();
  uint64_t deadline = start + seconds_ns(timeout);
  int pending = 0;
  std::vector<epoll_event> events(1024);
  auto collect = [&](int timeout_ms) {
    int n = epoll.wait(events.data(), static_cast<int>(events.size()), timeout_ms);
    for (int i = 0; i < n; ++i) {
      auto& c = *static_cast<Pending*>(events[i].data.ptr);
      if (c.done) continue;
      c.done = true;
      --pending;
      epoll.remove(c.fd.get());
      int err = 0;
      socklen_t len = sizeof(err);
      ::getsockopt(c.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0) fds_.push_back(std::move(c.fd));
    }
  };
  // Once the server has stopped accepting (or its queue cannot be read), pacing the rest would
  // only wait a second per batch for nothing.
  bool pacing = true;
  for (size_t i = 0; i < conns.size(); ++i) {
    if (i % kCrowdBatch == 0) {
      if (pacing) pacing = wait_for_accepts(target.address, kCrowdBatch, deadline);
      collect(0);
    }
    auto& c = conns[i];
    c.fd = connect_to(target.address, true);
    if (!c.fd) continue;  // out of descriptors or ports: fewer opened, which the report shows
    epoll.add(c.fd.get(), EPOLLOUT, &c);
    ++pending;
  }
  // A connect that has not completed in 3 s while no other did is one the server does not take
  // (a full fixed pool leaves its accept queue full, and the kernel drops the SYNs): waiting for
  // the kernel's SYN retries up to the deadline would only stretch the run.
  uint64_t progress_ns = now_ns();
  while (pending > 0 && now_ns() < deadline && now_ns() - progress_ns < seconds_ns(3)) {
    int before = pending;
    collect(100);
    if (pending < before) progress_ns = now_ns();
  }
  // The last batch accepted too, so that the server holds the whole crowd before the busy
  // connections start.
  if (pacing) wait_for_accepts(target.address, 0, deadline);
  open_seconds_ = static_cast<double>(now_ns() - start) / 1e9;
  auto overflows_after = netstat_counter("TcpExt", "ListenOverflows");
  if (overflows_before && overflows_after) {
    listen_overflows_ = static_cast<int64_t>(*overflows_after - *overflows_before);
  }
}

int IdleCrowd::still_open() const {
  std::vector<pollfd> polled;
  polled.reserve(fds_.size());
  for (const auto& fd : fds_) polled.push_back(pollfd{fd.get(), POLLIN | POLLRDHUP, 0});
  if (::poll(polled.data(), polled.size(), 0) < 0) return -1;
  // The server sends an idle connection nothing, so anything to read is its end: EOF or a reset.
  return static_cast<int>(
      std::count_if(polled.begin(), polled.end(), [](const pollfd& p) { return p.revents == 0; }));
}

IdleResult run_idle(const Target& target, const IdleOptions& options) {
  IdleResult result;
  if (target.server_pid) {
    warm_up(target, options);
    std::this_thread::sleep_for(std::chrono::duration<double>(options.settle));
    result.before = tree_stats(target.server_pid);
  }
  progress(fmt::format("idle: opening {} {} connections", options.connections,
                       options.protocol == IdleProtocol::kFtp ? "FTP" : "echo"));
  auto measure = [&] {
    std::this_thread::sleep_for(std::chrono::duration<double>(options.settle));
    if (target.server_pid) result.after = tree_stats(target.server_pid);
  };
  if (options.protocol == IdleProtocol::kFtp) {
    ftp_idle(target, options, &result, measure);
  } else {
    echo_idle(target, options, &result, measure);
  }
  // Every connection asked for that did not end up open and answering failed: refused, dropped,
  // or still connecting or unanswered at the timeout (a server that serves a fixed number of
  // clients leaves the rest there, with no error to see).
  result.failures = static_cast<uint64_t>(std::max(options.connections - result.answered, 0));
  return result;
}

}  // namespace nm::bench
