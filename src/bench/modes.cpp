#include "bench/modes.hpp"

#include <functional>
#include <iostream>
#include <limits>
#include <stdexcept>

#include "bench/event_loop.hpp"
#include "bench/report.hpp"
#include "client/tls_channel.hpp"

namespace nm::bench {
namespace {

Target make_target(const ModeOptions& mode) {
  auto address = Address::parse(mode.host);
  if (!address) throw std::runtime_error("--host wants HOST:PORT, got '" + mode.host + "'");
  Target target;
  target.address = *address;
  target.user = mode.user;
  target.password = mode.password;
  target.server_pid = mode.server_pid;
  target.threads = mode.threads;
  if (mode.tls) {
    client::TlsOptions tls;
    tls.ca_file = mode.ca_file;
    target.tls = std::make_shared<client::TlsContext>(tls);
  }
  return target;
}

void print(const ModeOptions& mode, const Report& report) {
  switch (mode.format) {
    case OutputFormat::kJson:
      report.print_json(std::cout);
      break;
    case OutputFormat::kCsv:
      report.print_csv(std::cout);
      break;
    case OutputFormat::kTable:
      report.print_table(std::cout);
      break;
  }
  std::cout.flush();
}

Report start_report(const ModeOptions& mode, const char* name) {
  Report report;
  report.add_text("mode", name);
  if (!mode.label.empty()) report.add_text("label", mode.label);
  report.add_text("host", mode.host);
  return report;
}

// Runs a mode, turning its exceptions into a message and exit code 1.
int guarded(const std::function<int()>& body) {
  try {
    raise_fd_limit();
    return body();
  } catch (const std::exception& e) {
    std::cerr << "netmodels bench: " << e.what() << "\n";
    return 1;
  }
}

void add_server_cpu(Report& report, double cpu_seconds, double operations, const char* per) {
  if (cpu_seconds < 0) return;
  report.add("server_cpu_s", cpu_seconds, "s", 2);
  // Nothing done, no cost per thing: NaN (JSON null) rather than a 0 that a median would take
  // for the cheapest run.
  double per_million =
      operations > 0 ? cpu_seconds / operations * 1e6 : std::numeric_limits<double>::quiet_NaN();
  report.add(std::string("server_cpu_s_per_million_") + per, per_million, "s", 3);
}

// PREFIXp50_ms, PREFIXp99_ms and PREFIXmax_ms of a histogram of nanoseconds.
void add_milliseconds(Report& report, const std::string& prefix, const Histogram& ns) {
  report.add(prefix + "p50_ms", ns.percentile(50) / 1e6, "ms", 2);
  report.add(prefix + "p99_ms", ns.percentile(99) / 1e6, "ms", 2);
  report.add(prefix + "max_ms", static_cast<double>(ns.max()) / 1e6, "ms", 2);
}

void add_failures(Report& report, uint64_t failures) {
  report.add("failures", static_cast<double>(failures), "", 0);
}

void add_listen_overflows(Report& report, int64_t overflows) {
  if (overflows >= 0) report.add("listen_overflows", static_cast<double>(overflows), "", 0);
}

constexpr double kMiB = 1024.0 * 1024.0;

}  // namespace

int run_echo_mode(const ModeOptions& mode, const EchoOptions& options) {
  return guarded([&] {
    auto r = run_echo(make_target(mode), options);
    auto report = start_report(mode, "echo");
    report.add("connections", options.connections, "", 0);
    report.add("size", static_cast<double>(options.size), "B", 0);
    report.add("seconds", r.seconds, "s", 2);
    report.add("messages", static_cast<double>(r.messages), "", 0);
    report.add("messages_per_s", r.messages / r.seconds, "msg/s", 0);
    report.add("mib_per_s", r.messages * static_cast<double>(options.size) / r.seconds / kMiB,
               "MiB/s", 2);
    report.add("p50_us", r.latency.percentile(50) / 1e3, "us", 1);
    report.add("p99_us", r.latency.percentile(99) / 1e3, "us", 1);
    report.add("p999_us", r.latency.percentile(99.9) / 1e3, "us", 1);
    report.add("max_us", static_cast<double>(r.latency.max()) / 1e3, "us", 1);
    report.add("connected", r.connected, "", 0);
    report.add("served", r.served, "", 0);
    report.add("connect_failures", r.connect_failures, "", 0);
    report.add("broken", r.broken, "", 0);
    add_server_cpu(report, r.server_cpu_seconds, r.server_cpu_messages, "msgs");
    if (options.idle > 0) {
      report.add("idle", options.idle, "", 0);
      report.add("idle_opened", r.idle_opened, "", 0);
      report.add("idle_open_s", r.idle_open_seconds, "s", 2);
      report.add("idle_still_open", r.idle_still_open, "", 0);
      if (r.idle_listen_overflows >= 0) {
        report.add("idle_listen_overflows", static_cast<double>(r.idle_listen_overflows), "", 0);
      }
    }
    print(mode, report);
    return r.messages > 0 ? 0 : 1;
  });
}

int run_connect_rate_mode(const ModeOptions& mode, EchoOptions options) {
  return guarded([&] {
    options.reconnect = true;
    auto r = run_echo(make_target(mode), options);
    auto report = start_report(mode, "connect-rate");
    report.add("connections", options.connections, "", 0);
    report.add("size", static_cast<double>(options.size), "B", 0);
    report.add("seconds", r.seconds, "s", 2);
    report.add("cycles", static_cast<double>(r.messages), "", 0);
    report.add("connections_per_s", r.messages / r.seconds, "conn/s", 0);
    // A cycle: connect() to the last byte of the echo.
    report.add("p50_us", r.latency.percentile(50) / 1e3, "us", 1);
    report.add("p99_us", r.latency.percentile(99) / 1e3, "us", 1);
    report.add("max_us", static_cast<double>(r.latency.max()) / 1e3, "us", 1);
    report.add("connect_failures", r.connect_failures, "", 0);
    report.add("broken", r.broken, "", 0);
    // Seconds per million connections are microseconds per connection.
    add_server_cpu(report, r.server_cpu_seconds, r.server_cpu_messages, "conns");
    print(mode, report);
    return r.messages > 0 ? 0 : 1;
  });
}

int run_ftp_sessions_mode(const ModeOptions& mode, const FtpSessionOptions& options) {
  return guarded([&] {
    auto r = run_ftp_sessions(make_target(mode), options);
    auto report = start_report(mode, "ftp-sessions");
    report.add("connections", options.clients, "", 0);
    report.add("seconds", r.seconds, "s", 2);
    report.add("sessions", static_cast<double>(r.sessions), "", 0);
    report.add("sessions_per_s", r.sessions / r.seconds, "sessions/s", 1);
    add_milliseconds(report, "", r.session_ns);
    add_failures(report, r.failures);
    add_server_cpu(report, r.server_cpu_seconds, static_cast<double>(r.sessions), "sessions");
    print(mode, report);
    return r.sessions > 0 ? 0 : 1;
  });
}

int run_login_storm_mode(const ModeOptions& mode, int clients, double timeout) {
  return guarded([&] {
    auto r = run_login_storm(make_target(mode), clients, timeout);
    auto report = start_report(mode, "login-storm");
    report.add("connections", r.clients, "", 0);
    report.add("logged_in", r.logged_in, "", 0);
    report.add("login_storm_s", r.seconds, "s", 3);
    add_failures(report, r.failures);
    add_listen_overflows(report, r.listen_overflows);
    print(mode, report);
    return r.logged_in == r.clients ? 0 : 1;
  });
}

int run_watched_storm_mode(const ModeOptions& mode, const WatchedStormOptions& options) {
  return guarded([&] {
    auto r = run_watched_login_storm(make_target(mode), options);
    auto report = start_report(mode, "ftp-login-storm");
    report.add("connections", r.clients, "", 0);
    report.add("logged_in", r.logged_in, "", 0);
    report.add("failed_logins", r.clients - r.logged_in, "", 0);
    report.add("storm_s", r.seconds, "s", 3);
    report.add("logins_per_s", r.seconds > 0 ? r.logged_in / r.seconds : 0, "logins/s", 1);
    report.add("watch_interval_ms", options.watch_interval_ms, "ms", 1);
    report.add("watch_noops", static_cast<double>(r.watch_ns.count()), "", 0);
    add_milliseconds(report, "watch_", r.watch_ns);
    report.add("watch_ok", r.watcher_error.empty() ? 1 : 0, "", 0);
    add_listen_overflows(report, r.listen_overflows);
    if (r.server_cpu_seconds >= 0) {
      // Per login rather than per million: a yescrypt check alone costs milliseconds.
      report.add("server_cpu_s", r.server_cpu_seconds, "s", 2);
      report.add("server_cpu_ms_per_login",
                 r.logged_in ? r.server_cpu_seconds / r.logged_in * 1e3 : 0, "ms", 2);
    }
    print(mode, report);
    bool ok = r.logged_in == r.clients && r.watcher_error.empty() && r.watch_ns.count() > 0;
    return ok ? 0 : 1;
  });
}

int run_transfer_mode(const ModeOptions& mode, const TransferOptions& options) {
  return guarded([&] {
    auto r = run_transfer(make_target(mode), options);
    auto report = start_report(mode, "ftp-transfer");
    report.add("retr_mib", r.retr_bytes / kMiB, "MiB", 1);
    report.add("retr_s", r.retr_seconds, "s", 3);
    report.add("retr_mib_per_s", r.retr_seconds > 0 ? r.retr_bytes / kMiB / r.retr_seconds : 0,
               "MiB/s", 1);
    report.add("stor_mib", r.stor_bytes / kMiB, "MiB", 1);
    report.add("stor_s", r.stor_seconds, "s", 3);
    report.add("stor_mib_per_s", r.stor_seconds > 0 ? r.stor_bytes / kMiB / r.stor_seconds : 0,
               "MiB/s", 1);
    // Server CPU seconds per GiB moved, each direction's session whole (its login included).
    auto cpu_per_gib = [&report](const char* name, double cpu_seconds, uint64_t bytes) {
      constexpr double kGiB = 1024.0 * 1024 * 1024;
      if (cpu_seconds >= 0 && bytes > 0) report.add(name, cpu_seconds / (bytes / kGiB), "s", 3);
    };
    cpu_per_gib("retr_server_cpu_s_per_gib", r.retr_server_cpu_seconds, r.retr_bytes);
    cpu_per_gib("stor_server_cpu_s_per_gib", r.stor_server_cpu_seconds, r.stor_bytes);
    add_failures(report, r.failures);
    print(mode, report);
    return r.failures == 0 && r.retr_bytes > 0 && r.stor_bytes > 0 ? 0 : 1;
  });
}

int run_parallel_mode(const ModeOptions& mode, int clients, const std::string& file,
                      double timeout) {
  return guarded([&] {
    auto r = run_parallel_retr(make_target(mode), clients, file, timeout);
    auto report = start_report(mode, "ftp-parallel");
    report.add("connections", clients, "", 0);
    report.add("transfers", r.transfers, "", 0);
    report.add("parallel_s", r.seconds, "s", 3);
    report.add("parallel_mib_per_s", r.seconds > 0 ? r.bytes / kMiB / r.seconds : 0, "MiB/s", 1);
    add_failures(report, r.failures);
    print(mode, report);
    return r.transfers == clients ? 0 : 1;
  });
}

int run_idle_mode(const ModeOptions& mode, const IdleOptions& options) {
  return guarded([&] {
    auto r = run_idle(make_target(mode), options);
    auto report = start_report(mode, "idle");
    report.add_text("protocol", options.protocol == IdleProtocol::kFtp ? "ftp" : "echo");
    report.add("connections", options.connections, "", 0);
    report.add("opened", r.opened, "", 0);
    report.add("answered", r.answered, "", 0);
    report.add("open_s", r.open_seconds, "s", 2);
    add_failures(report, r.failures);
    if (mode.server_pid && r.before.processes > 0) {
      // Both readings on the same basis, chosen by what the server became under load.
      bool tree = r.after.processes > 1 || r.before.processes > 1;
      report.add("server_processes", r.after.processes, "", 0);
      report.add("server_kib_before", static_cast<double>(r.before.memory_kib(tree)), "KiB", 0);
      report.add("server_kib_after", static_cast<double>(r.after.memory_kib(tree)), "KiB", 0);
      report.add_text("memory_basis", tree ? "pss" : "rss");
      double grown = static_cast<double>(r.after.memory_kib(tree)) -
                     static_cast<double>(r.before.memory_kib(tree));
      report.add("bytes_per_connection", r.opened ? grown * 1024.0 / r.opened : 0, "B", 0);
    }
    print(mode, report);
    return r.answered == options.connections ? 0 : 1;
  });
}

}  // namespace nm::bench
