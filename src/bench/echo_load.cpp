#include "bench/echo_load.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "bench/event_loop.hpp"
#include "bench/idle_load.hpp"
#include "bench/proc_stats.hpp"
#include "net/socket.hpp"

namespace nm::bench {
namespace {

struct Window {
  uint64_t start_ns = 0;  // measuring begins
  uint64_t end_ns = 0;    // everything stops
};

// One client slot; with `reconnect` it holds a new connection for every message.
struct Connection {
  Fd fd;
  bool connected = false;
  bool writing = false;  // EPOLLOUT wanted: the message did not fit in the socket buffer
  size_t sent = 0;
  size_t received = 0;
  uint64_t started_ns = 0;
  uint64_t completed = 0;
};

// One load thread's connections and their epoll loop. Built by run_echo on the main thread, then
// run on a thread of its own; the main thread reads its result only after joining it.
class EchoWorker {
 public:
  EchoWorker(const Target& target, const EchoOptions& options, int connections, Window window)
      : target_(target),
        count_(connections),
        reconnect_(options.reconnect),
        window_(window),
        payload_(options.size, 'x'),
        scratch_(64 * 1024) {
    for (size_t i = 0; i < payload_.size(); ++i) payload_[i] = static_cast<char>('a' + i % 26);
  }

  void run() {
    connections_.resize(static_cast<size_t>(count_));
    for (auto& c : connections_) open(c);
    std::vector<epoll_event> events(256);
    while (now_ns() < window_.end_ns) {
      int n = epoll_.wait(events.data(), static_cast<int>(events.size()), 50);
      for (int i = 0; i < n; ++i) handle(*static_cast<Connection*>(events[i].data.ptr));
    }
    for (auto& c : connections_) {
      if (c.completed > 0) ++result_.served;
    }
  }

  EchoResult& result() { return result_; }

 private:
  void open(Connection& c) {
    c.connected = false;
    c.started_ns = now_ns();  // with reconnect, the connect is part of the measured cycle
    c.fd = connect_to(target_.address, true);
    if (!c.fd) {
      ++result_.connect_failures;
      return;
    }
    epoll_.add(c.fd.get(), EPOLLIN | EPOLLOUT, &c);
  }

  void fail(Connection& c) {
    if (c.connected) {
      ++result_.broken;
    } else {
      ++result_.connect_failures;
    }
    epoll_.remove(c.fd.get());
    c.fd.reset();
    // A refused or reset connect-rate cycle is counted and the client goes on: one failure must
    // not take a client out of the rest of the run.
    if (reconnect_ && now_ns() < window_.end_ns) open(c);
  }

  void handle(Connection& c) {
    if (!c.fd) return;
    if (!c.connected) {
      int err = 0;
      socklen_t len = sizeof(err);
      ::getsockopt(c.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) return fail(c);
      c.connected = true;
      ++result_.connected;
      set_nodelay(c.fd.get());
      c.writing = true;  // registered with EPOLLOUT
      return begin(c);
    }
    if (c.writing && c.sent < payload_.size()) write(c);
    // A failed write may have replaced the connection (reconnect) with one still connecting.
    if (c.fd && c.connected) read(c);
  }

  void begin(Connection& c) {
    c.sent = 0;
    c.received = 0;
    if (!reconnect_) c.started_ns = now_ns();
    write(c);
  }

  void write(Connection& c) {
    while (c.sent < payload_.size()) {
      ssize_t n =
          ::send(c.fd.get(), payload_.data() + c.sent, payload_.size() - c.sent, MSG_NOSIGNAL);
      if (n > 0) {
        c.sent += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        break;
      } else {
        return fail(c);
      }
    }
    bool want_out = c.sent < payload_.size();
    if (want_out != c.writing) {
      c.writing = want_out;
      epoll_.modify(c.fd.get(), EPOLLIN | (want_out ? EPOLLOUT : 0u), &c);
    }
  }

  void read(Connection& c) {
    for (;;) {
      ssize_t n = ::recv(c.fd.get(), scratch_.data(), scratch_.size(), 0);
      if (n > 0) {
        c.received += static_cast<size_t>(n);
        if (c.received > c.sent) return fail(c);  // more than was asked: not an echo
        if (c.received == payload_.size()) return complete(c);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return;
      } else {
        return fail(c);
      }
    }
  }

  void complete(Connection& c) {
    uint64_t now = now_ns();
    if (now >= window_.start_ns && now < window_.end_ns) {
      ++c.completed;
      ++result_.messages;
      result_.latency.record(now - c.started_ns);
    }
    if (now >= window_.end_ns) return;
    if (!reconnect_) return begin(c);
    // The client closes first, as a one-shot client does; the kernel reuses the TIME_WAIT ports
    // on loopback (net.ipv4.tcp_tw_reuse), so the run is not bounded by the port range.
    epoll_.remove(c.fd.get());
    c.fd.reset();
    open(c);
  }

  const Target& target_;
  int count_;
  bool reconnect_;
  Window window_;
  std::string payload_;
  std::vector<char> scratch_;
  Epoll epoll_;
  std::vector<Connection> connections_;
  EchoResult result_;
};

}  // namespace

EchoResult run_echo(const Target& target, const EchoOptions& options) {
  std::unique_ptr<IdleCrowd> crowd;
  if (options.idle > 0) {
    progress(fmt::format("echo: opening {} idle connections", options.idle));
    crowd = std::make_unique<IdleCrowd>(target, options.idle, options.idle_timeout);
    progress(fmt::format("echo: {} of {} idle connections open in {:.2f} s", crowd->opened(),
                         options.idle, crowd->open_seconds()));
  }
  int threads = thread_count(target, options.connections);
  // Reading the server's CPU takes time (a fork server holding 10,000 idle connections is 10,000
  // files, seconds on a loaded machine): timed once here, so that the warm-up leaves room to
  // start each reading that long before its edge of the window.
  uint64_t reading_ns = 0;
  if (target.server_pid) {
    uint64_t t0 = now_ns();
    tree_cpu_seconds(target.server_pid);
    reading_ns = now_ns() - t0;
  }
  Window window;
  window.start_ns = now_ns() + std::max(seconds_ns(options.warmup), 2 * reading_ns);
  window.end_ns = window.start_ns + seconds_ns(options.duration);
  progress(std::string(options.reconnect ? "connect-rate: " : "echo: ") +
           std::to_string(options.connections) +
           (options.reconnect ? " clients, " : " connections, ") + std::to_string(options.size) +
           "-byte messages, " + std::to_string(threads) + " threads, warming up");

  std::vector<std::unique_ptr<EchoWorker>> workers;
  for (int i = 0; i < threads; ++i) {
    workers.push_back(std::make_unique<EchoWorker>(
        target, options, share_of(options.connections, threads, i), window));
  }
  std::vector<std::thread> running;
  for (auto& w : workers) running.emplace_back([&w] { w->run(); });

  auto at = [](uint64_t ns) { return Clock::time_point(std::chrono::nanoseconds(ns)); };
  // Each reading starts as long before its edge as one took, so that both end near their edges.
  // NaN: not read (no --server-pid, the server gone, or too little of the window covered).
  double before = std::nan(""), after = std::nan("");
  uint64_t before_ended = 0, after_ended = 0;
  auto read_at = [&](uint64_t edge, double* out, uint64_t* ended) {
    std::this_thread::sleep_until(at(edge - reading_ns));
    if (!target.server_pid) return;
    *out = tree_cpu_seconds(target.server_pid).value_or(std::nan(""));
    *ended = now_ns();
  };
  read_at(window.start_ns, &before, &before_ended);
  progress("echo: measuring for " + fmt::format("{:g} s", options.duration));
  read_at(window.end_ns, &after, &after_ended);
  for (auto& t : running) t.join();
  // The readings cover the load from the end of the first to the end of the second, or to the
  // window's end if that came first (the load stops there): a fork server's busy processes, forked
  // last, are read last, and on a loaded machine reading 10,000 of them ends a second off the
  // estimate. The CPU is set against the messages of that span, at the window's steady rate; a
  // span shorter than half the window gives no figure rather than a rough one.
  uint64_t covered_end = std::min(after_ended, window.end_ns);
  double covered =
      covered_end > before_ended ? static_cast<double>(covered_end - before_ended) / 1e9 : 0;
  if (target.server_pid && covered < options.duration / 2) {
    progress(fmt::format("echo: server CPU not reported: the readings covered {:.2f} s of {:g}",
                         covered, options.duration));
    before = std::nan("");
  }

  EchoResult total;
  total.seconds = options.duration;
  for (auto& w : workers) {
    auto& r = w->result();
    total.messages += r.messages;
    total.latency.merge(r.latency);
    total.connected += r.connected;
    total.connect_failures += r.connect_failures;
    total.served += r.served;
    total.broken += r.broken;
  }
  if (std::isfinite(before) && std::isfinite(after)) {
    total.server_cpu_seconds = after - before;
    total.server_cpu_messages = static_cast<double>(total.messages) * covered / options.duration;
  }
  if (crowd) {
    total.idle_opened = crowd->opened();
    total.idle_still_open = crowd->still_open();
    total.idle_open_seconds = crowd->open_seconds();
    total.idle_listen_overflows = crowd->listen_overflows();
  }
  return total;
}

}  // namespace nm::bench
