#include "bench/ftp_load.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>

#include "bench/ftp_client.hpp"
#include "bench/proc_stats.hpp"
#include "client/ftp_connection.hpp"

namespace nm::bench {
namespace {

Clock::time_point at(uint64_t ns) {
  return Clock::time_point(std::chrono::nanoseconds(ns));
}

// Runs `options` on `clients` clients spread over the load threads; returns the merged counters.
FtpCounters run_clients(const Target& target, int clients, const FtpWorkerOptions& options,
                        int threads, const std::function<void()>& while_running = {}) {
  std::vector<std::unique_ptr<FtpWorker>> workers;
  for (int i = 0; i < threads; ++i) {
    workers.push_back(std::make_unique<FtpWorker>(target, share_of(clients, threads, i)));
  }
  std::vector<std::thread> running;
  for (auto& w : workers) running.emplace_back([&w, &options] { w->run(options); });
  if (while_running) while_running();
  for (auto& t : running) t.join();
  FtpCounters total;
  for (auto& w : workers) total.merge(w->counters());
  return total;
}

void log_errors(const std::vector<std::string>& errors) {
  for (const auto& e : errors) progress("  error: " + e);
}

}  // namespace

FtpSessionResult run_ftp_sessions(const Target& target, const FtpSessionOptions& options) {
  if (target.tls) {
    throw std::runtime_error(
        "--tls is for --login-storm only: the sessions' transfers are in clear");
  }
  FtpWorkerOptions w;
  w.script = {{StepKind::kLogin, {}, 0},
              {StepKind::kList, {}, 0},
              {StepKind::kRetr, options.file, 0},
              {StepKind::kQuit, {}, 0}};
  w.loop = true;
  w.window_start_ns = now_ns() + seconds_ns(options.warmup);
  w.end_ns = w.window_start_ns + seconds_ns(options.duration);
  int threads = thread_count(target, options.clients);
  progress(fmt::format("ftp-sessions: {} clients, {} threads, {:g} s", options.clients, threads,
                       options.duration));
  TreeStats before, after;
  auto counters = run_clients(target, options.clients, w, threads, [&] {
    std::this_thread::sleep_until(at(w.window_start_ns));
    if (target.server_pid) before = tree_stats(target.server_pid);
    std::this_thread::sleep_until(at(w.end_ns));
    if (target.server_pid) after = tree_stats(target.server_pid);
  });
  FtpSessionResult r;
  r.sessions = counters.sessions;
  r.seconds = options.duration;
  r.session_ns = counters.session_ns;
  r.failures = counters.failures;
  r.errors = counters.errors;
  if (target.server_pid && before.processes > 0) {
    r.server_cpu_seconds = after.cpu_seconds - before.cpu_seconds;
  }
  log_errors(r.errors);
  return r;
}

LoginStormResult run_login_storm(const Target& target, int clients, double timeout) {
  FtpWorkerOptions w;
  w.script = {{StepKind::kLogin, {}, 0}, {StepKind::kHold, {}, 0}};
  if (target.tls) w.script.insert(w.script.begin(), {StepKind::kAuthTls, {}, 0});
  uint64_t start = now_ns();
  w.end_ns = start + seconds_ns(timeout);
  int threads = thread_count(target, clients);
  progress(fmt::format("login storm: {} clients{}, {} threads", clients,
                       target.tls ? " (AUTH TLS)" : "", threads));
  auto overflows_before = netstat_counter("TcpExt", "ListenOverflows");
  auto counters = run_clients(target, clients, w, threads);
  auto overflows_after = netstat_counter("TcpExt", "ListenOverflows");
  LoginStormResult r;
  if (overflows_before && overflows_after) {
    r.listen_overflows = static_cast<int64_t>(*overflows_after - *overflows_before);
  }
  r.clients = clients;
  r.logged_in = counters.held;
  r.failures = counters.failures;
  r.errors = counters.errors;
  r.seconds = counters.held ? static_cast<double>(counters.last_hold_ns - start) / 1e9 : 0;
  log_errors(r.errors);
  return r;
}

namespace {

// The session already logged in when the storm starts. A blocking client on a thread of its own:
// its NOOPs are timed by the clock alone, not by when a busy load loop gets round to them.
class Watcher {
 public:
  Watcher(const Target& target, double interval_ms, double timeout)
      : interval_(std::chrono::microseconds(static_cast<int64_t>(interval_ms * 1000))) {
    client::ConnectionOptions options;
    options.timeout = client::Millis(static_cast<int64_t>(timeout * 1000));
    conn_ = std::make_unique<client::FtpConnection>(target.address.host(), target.address.port(),
                                                    options);
    conn_->login(target.user, target.password, []() -> std::string {
      throw std::runtime_error("the server asked for a password");
    });
  }

  void start() {
    thread_ = std::thread([this] { watch(); });
  }

  // Waits for the NOOP in flight, then leaves.
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (error_.empty()) conn_->quit();
  }

  // The waits of the NOOPs sent up to `end_ns`: clients the server never accepted (past a short
  // listen backlog) keep the storm running until its timeout, and the NOOPs of that idle tail
  // would dilute the figures of the storm itself.
  Histogram waits_until(uint64_t end_ns) const {
    Histogram waits;
    for (const auto& s : samples_) {
      if (s.sent_ns <= end_ns) waits.record(s.wait_ns);
    }
    return waits;
  }
  const std::string& error() const { return error_; }

 private:
  void watch() {
    auto next = Clock::now();
    try {
      while (!stop_) {
        uint64_t sent = now_ns();
        auto reply = conn_->send("NOOP");
        samples_.push_back({sent, now_ns() - sent});
        if (!reply.ok()) throw std::runtime_error("NOOP: " + reply.text());
        // A late reply is followed by the next NOOP at once, not by a burst catching up.
        next = std::max(next + interval_, Clock::now());
        std::this_thread::sleep_until(next);
      }
    } catch (const std::exception& e) {
      error_ = fmt::format("watcher: {}", e.what());
    }
  }

  Clock::duration interval_;
  std::unique_ptr<client::FtpConnection> conn_;
  std::atomic<bool> stop_{false};
  struct Sample {
    uint64_t sent_ns;
    uint64_t wait_ns;
  };
  std::vector<Sample> samples_;  // read once the thread has ended
  std::string error_;
  std::thread thread_;
};

}  // namespace

WatchedStormResult run_watched_login_storm(const Target& target,
                                           const WatchedStormOptions& options) {
  Watcher watcher(target, options.watch_interval_ms, options.timeout);
  FtpWorkerOptions w;
  w.script = {{StepKind::kLogin, {}, 0}, {StepKind::kQuit, {}, 0}};
  int threads = thread_count(target, options.clients);
  progress(fmt::format("ftp-login-storm: {} clients, {} threads, a NOOP every {:g} ms",
                       options.clients, threads, options.watch_interval_ms));
  TreeStats before;
  if (target.server_pid) before = tree_stats(target.server_pid);
  auto overflows_before = netstat_counter("TcpExt", "ListenOverflows");
  watcher.start();
  uint64_t start = now_ns();
  w.end_ns = start + seconds_ns(options.timeout);
  auto counters = run_clients(target, options.clients, w, threads);
  watcher.stop();
  auto overflows_after = netstat_counter("TcpExt", "ListenOverflows");
  WatchedStormResult r;
  if (target.server_pid && before.processes > 0) {
    r.server_cpu_seconds = tree_stats(target.server_pid).cpu_seconds - before.cpu_seconds;
  }
  if (overflows_before && overflows_after) {
    r.listen_overflows = static_cast<int64_t>(*overflows_after - *overflows_before);
  }
  r.clients = options.clients;
  r.logged_in = static_cast<int>(counters.sessions);
  r.seconds = counters.sessions ? static_cast<double>(counters.last_end_ns - start) / 1e9 : 0;
  r.watch_ns = watcher.waits_until(counters.sessions ? counters.last_end_ns : UINT64_MAX);
  r.watcher_error = watcher.error();
  r.errors = counters.errors;
  if (!r.watcher_error.empty()) r.errors.insert(r.errors.begin(), r.watcher_error);
  log_errors(r.errors);
  return r;
}

TransferResult run_transfer(const Target& target, const TransferOptions& options) {
  progress(fmt::format("ftp-transfer: RETR {} then STOR {} ({} bytes)", options.retr_file,
                       options.stor_file, options.stor_bytes));
  // A session for each direction, with the server's CPU read around each: a GiB moved dwarfs
  // the login, and CPU seconds per GiB move far less than MiB/s on a shared machine.
  auto session = [&](Step transfer, double* server_cpu) {
    FtpWorkerOptions w;
    w.script = {{StepKind::kLogin, {}, 0},
                {StepKind::kTypeImage, {}, 0},
                std::move(transfer),
                {StepKind::kQuit, {}, 0}};
    w.end_ns = now_ns() + seconds_ns(options.timeout);
    std::optional<double> before;
    if (target.server_pid) before = tree_cpu_seconds(target.server_pid);
    auto counters = run_clients(target, 1, w, 1);
    std::optional<double> after;
    if (before) after = tree_cpu_seconds(target.server_pid);
    if (after) *server_cpu = *after - *before;
    return counters;
  };
  TransferResult r;
  auto retr = session({StepKind::kRetr, options.retr_file, 0}, &r.retr_server_cpu_seconds);
  auto stor =
      session({StepKind::kStor, options.stor_file, options.stor_bytes}, &r.stor_server_cpu_seconds);
  r.retr_bytes = retr.retr_bytes;
  r.retr_seconds = static_cast<double>(retr.retr_ns) / 1e9;
  r.stor_bytes = stor.stor_bytes;
  r.stor_seconds = static_cast<double>(stor.stor_ns) / 1e9;
  r.failures = retr.failures + stor.failures;
  r.errors = retr.errors;
  r.errors.insert(r.errors.end(), stor.errors.begin(), stor.errors.end());
  log_errors(r.errors);
  return r;
}

ParallelResult run_parallel_retr(const Target& target, int clients, const std::string& file,
                                 double timeout) {
  FtpWorkerOptions w;
  w.script = {{StepKind::kLogin, {}, 0},
              {StepKind::kTypeImage, {}, 0},
              {StepKind::kRetr, file, 0},
              {StepKind::kQuit, {}, 0}};
  // Each client quits once it has its file, so a model serving fewer than N sessions at once
  // (iterative, a small pool) serves the rest as slots free: the time shows the queueing.
  uint64_t start = now_ns();
  w.end_ns = start + seconds_ns(timeout);
  int threads = thread_count(target, clients);
  progress(fmt::format("ftp-transfer: {} parallel RETR {}", clients, file));
  auto counters = run_clients(target, clients, w, threads);
  ParallelResult r;
  r.transfers = static_cast<int>(counters.retr_bytes ? counters.transfers : 0);
  r.bytes = counters.retr_bytes;
  r.seconds = counters.sessions ? static_cast<double>(counters.last_end_ns - start) / 1e9 : 0;
  r.failures = counters.failures;
  r.errors = counters.errors;
  log_errors(r.errors);
  return r;
}

}  // namespace nm::bench
