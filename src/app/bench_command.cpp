#include <functional>
#include <iostream>
#include <memory>
#include <stdexcept>

#include "app/commands.hpp"
#include "bench/echo_load.hpp"
#include "bench/event_loop.hpp"
#include "bench/ftp_load.hpp"
#include "bench/idle_load.hpp"
#include "bench/report.hpp"

namespace nm {
namespace {

using bench::Report;

struct CommonArgs {
  std::string host = "127.0.0.1:2121";
  std::string user = "anonymous";
  std::string password = "bench@";
  int server_pid = 0;
  int threads = 0;
  bool json = false;
  bool csv = false;
  std::string label;
};

bench::Target make_target(const CommonArgs& args) {
  auto address = Address::parse(args.host);
  if (!address) throw std::runtime_error("--host wants HOST:PORT, got '" + args.host + "'");
  bench::Target target;
  target.address = *address;
  target.user = args.user;
  target.password = args.password;
  target.server_pid = args.server_pid;
  target.threads = args.threads;
  return target;
}

void add_common(CLI::App* cmd, CommonArgs* args) {
  cmd->add_option("--host", args->host, "Server to load, HOST:PORT")->capture_default_str();
  cmd->add_option("--user", args->user, "FTP user")->capture_default_str();
  cmd->add_option("--password", args->password, "FTP password")->capture_default_str();
  cmd->add_option("--server-pid", args->server_pid,
                  "Report the CPU and memory of this process and its descendants");
  cmd->add_option("--threads", args->threads, "Load threads (default: one per core)");
  cmd->add_option("--label", args->label, "Text copied into the results (e.g. the server name)");
  auto* json = cmd->add_flag("--json", args->json, "Results as one JSON object");
  cmd->add_flag("--csv", args->csv, "Results as CSV: a header line and one row")->excludes(json);
}

void print(const CommonArgs& args, const Report& report) {
  if (args.json) {
    report.print_json(std::cout);
  } else if (args.csv) {
    report.print_csv(std::cout);
  } else {
    report.print_table(std::cout);
  }
  std::cout.flush();
}

Report start_report(const CommonArgs& args, const char* mode) {
  Report report;
  report.add_text("mode", mode);
  if (!args.label.empty()) report.add_text("label", args.label);
  report.add_text("host", args.host);
  return report;
}

// Runs a mode, turning its exceptions into a message and exit code 1.
void guarded(int* exit_code, const std::function<int()>& body) {
  try {
    bench::raise_fd_limit();
    *exit_code = body();
  } catch (const std::exception& e) {
    std::cerr << "netmodels bench: " << e.what() << "\n";
    *exit_code = 1;
  }
}

void add_server_cpu(Report& report, double cpu_seconds, double operations, const char* per) {
  if (cpu_seconds < 0) return;
  report.add("server_cpu_s", cpu_seconds, "s", 2);
  double per_million = operations > 0 ? cpu_seconds / operations * 1e6 : 0;
  report.add(std::string("server_cpu_s_per_million_") + per, per_million, "s", 3);
}

void add_echo(CLI::App* bench_cmd, int* exit_code) {
  auto args = std::make_shared<CommonArgs>();
  args->host = "127.0.0.1:7007";
  auto options = std::make_shared<bench::EchoOptions>();
  auto* cmd = bench_cmd->add_subcommand(
      "echo", "N connections each sending a message and awaiting its echo, for T seconds");
  add_common(cmd, args.get());
  cmd->add_option("-c,--connections", options->connections, "Connections")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("-s,--size", options->size, "Message size in bytes")
      ->capture_default_str()
      ->check(CLI::Range(1, 64 << 20));
  cmd->add_option("-d,--duration", options->duration, "Seconds measured")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", options->warmup, "Seconds run before measuring")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->callback([args, options, exit_code] {
    guarded(exit_code, [&] {
      auto r = bench::run_echo(make_target(*args), *options);
      auto report = start_report(*args, "echo");
      report.add("connections", options->connections, "", 0);
      report.add("size", static_cast<double>(options->size), "B", 0);
      report.add("seconds", r.seconds, "s", 2);
      report.add("messages", static_cast<double>(r.messages), "", 0);
      report.add("messages_per_s", r.messages / r.seconds, "msg/s", 0);
      report.add("mib_per_s",
                 r.messages * static_cast<double>(options->size) / r.seconds / (1024.0 * 1024.0),
                 "MiB/s", 2);
      report.add("p50_us", r.latency.percentile(50) / 1e3, "us", 1);
      report.add("p99_us", r.latency.percentile(99) / 1e3, "us", 1);
      report.add("p999_us", r.latency.percentile(99.9) / 1e3, "us", 1);
      report.add("max_us", static_cast<double>(r.latency.max()) / 1e3, "us", 1);
      report.add("connected", r.connected, "", 0);
      report.add("served", r.served, "", 0);
      report.add("connect_failures", r.connect_failures, "", 0);
      report.add("broken", r.broken, "", 0);
      add_server_cpu(report, r.server_cpu_seconds, static_cast<double>(r.messages), "msgs");
      print(*args, report);
      return r.messages > 0 ? 0 : 1;
    });
  });
}

void add_failures(Report& report, uint64_t failures) {
  report.add("failures", static_cast<double>(failures), "", 0);
}

void add_ftp_sessions(CLI::App* bench_cmd, int* exit_code) {
  auto args = std::make_shared<CommonArgs>();
  auto options = std::make_shared<bench::FtpSessionOptions>();
  auto storm = std::make_shared<bool>(false);
  auto timeout = std::make_shared<double>(60);
  auto* cmd = bench_cmd->add_subcommand(
      "ftp-sessions", "N clients each looping connect, login, LIST, RETR, QUIT for T seconds");
  add_common(cmd, args.get());
  cmd->add_option("-c,--connections,--clients", options->clients, "Concurrent clients")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--file", options->file, "Small file each session RETRs")->capture_default_str();
  cmd->add_option("-d,--duration", options->duration, "Seconds measured")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", options->warmup, "Seconds run before measuring")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--login-storm", *storm,
                "Instead: N clients connect and log in at once; seconds until all are in");
  cmd->add_option("--timeout", *timeout, "--login-storm: give up after this many seconds")
      ->capture_default_str();
  cmd->callback([args, options, storm, timeout, exit_code] {
    guarded(exit_code, [&] {
      auto target = make_target(*args);
      if (*storm) {
        auto r = bench::run_login_storm(target, options->clients, *timeout);
        auto report = start_report(*args, "login-storm");
        report.add("connections", r.clients, "", 0);
        report.add("logged_in", r.logged_in, "", 0);
        report.add("login_storm_s", r.seconds, "s", 3);
        add_failures(report, r.failures);
        if (r.listen_overflows >= 0) {
          report.add("listen_overflows", static_cast<double>(r.listen_overflows), "", 0);
        }
        print(*args, report);
        return r.logged_in == r.clients ? 0 : 1;
      }
      auto r = bench::run_ftp_sessions(target, *options);
      auto report = start_report(*args, "ftp-sessions");
      report.add("connections", options->clients, "", 0);
      report.add("seconds", r.seconds, "s", 2);
      report.add("sessions", static_cast<double>(r.sessions), "", 0);
      report.add("sessions_per_s", r.sessions / r.seconds, "sessions/s", 1);
      report.add("p50_ms", r.session_ns.percentile(50) / 1e6, "ms", 2);
      report.add("p99_ms", r.session_ns.percentile(99) / 1e6, "ms", 2);
      report.add("max_ms", static_cast<double>(r.session_ns.max()) / 1e6, "ms", 2);
      add_failures(report, r.failures);
      add_server_cpu(report, r.server_cpu_seconds, static_cast<double>(r.sessions), "sessions");
      print(*args, report);
      return r.sessions > 0 ? 0 : 1;
    });
  });
}

// "1G", "10M", "512K" or plain bytes.
uint64_t parse_size(const std::string& text) {
  size_t used = 0;
  double value = std::stod(text, &used);
  std::string unit = text.substr(used);
  double scale = 1;
  if (unit == "K" || unit == "KiB" || unit == "k") scale = 1024.0;
  if (unit == "M" || unit == "MiB") scale = 1024.0 * 1024;
  if (unit == "G" || unit == "GiB") scale = 1024.0 * 1024 * 1024;
  if (scale == 1 && !unit.empty() && unit != "B") {
    throw std::runtime_error("--size wants bytes with an optional K, M or G, got '" + text + "'");
  }
  return static_cast<uint64_t>(value * scale);
}

void add_ftp_transfer(CLI::App* bench_cmd, int* exit_code) {
  auto args = std::make_shared<CommonArgs>();
  auto options = std::make_shared<bench::TransferOptions>();
  auto size = std::make_shared<std::string>("1G");
  auto parallel = std::make_shared<int>(0);
  auto parallel_file = std::make_shared<std::string>("10m.bin");
  auto* cmd = bench_cmd->add_subcommand(
      "ftp-transfer", "One RETR and one STOR of a large file, or N transfers at once");
  add_common(cmd, args.get());
  cmd->add_option("--file", options->retr_file, "File to RETR (its size is the server's)")
      ->capture_default_str();
  cmd->add_option("--stor-file", options->stor_file, "Name to STOR under")->capture_default_str();
  cmd->add_option("--size", *size, "Bytes to STOR (K, M, G suffixes)")->capture_default_str();
  cmd->add_option("--parallel", *parallel,
                  "Instead: this many sessions at once, each RETR of --parallel-file")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--parallel-file", *parallel_file, "File RETR'd by --parallel")
      ->capture_default_str();
  cmd->add_option("--timeout", options->timeout, "Give up after this many seconds")
      ->capture_default_str();
  cmd->callback([args, options, size, parallel, parallel_file, exit_code] {
    guarded(exit_code, [&] {
      auto target = make_target(*args);
      constexpr double kMiB = 1024.0 * 1024.0;
      if (*parallel > 0) {
        auto r = bench::run_parallel_retr(target, *parallel, *parallel_file, options->timeout);
        auto report = start_report(*args, "ftp-parallel");
        report.add("connections", *parallel, "", 0);
        report.add("transfers", r.transfers, "", 0);
        report.add("parallel_s", r.seconds, "s", 3);
        report.add("parallel_mib_per_s", r.seconds > 0 ? r.bytes / kMiB / r.seconds : 0, "MiB/s",
                   1);
        add_failures(report, r.failures);
        print(*args, report);
        return r.transfers == *parallel ? 0 : 1;
      }
      options->stor_bytes = parse_size(*size);
      auto r = bench::run_transfer(target, *options);
      auto report = start_report(*args, "ftp-transfer");
      report.add("retr_mib", r.retr_bytes / kMiB, "MiB", 1);
      report.add("retr_s", r.retr_seconds, "s", 3);
      report.add("retr_mib_per_s", r.retr_seconds > 0 ? r.retr_bytes / kMiB / r.retr_seconds : 0,
                 "MiB/s", 1);
      report.add("stor_mib", r.stor_bytes / kMiB, "MiB", 1);
      report.add("stor_s", r.stor_seconds, "s", 3);
      report.add("stor_mib_per_s", r.stor_seconds > 0 ? r.stor_bytes / kMiB / r.stor_seconds : 0,
                 "MiB/s", 1);
      add_failures(report, r.failures);
      print(*args, report);
      return r.failures == 0 && r.retr_bytes > 0 && r.stor_bytes > 0 ? 0 : 1;
    });
  });
}

void add_ftp_commands(CLI::App* bench_cmd, int* exit_code) {
  add_ftp_sessions(bench_cmd, exit_code);
  add_ftp_transfer(bench_cmd, exit_code);
}

void add_idle(CLI::App* bench_cmd, int* exit_code) {
  auto args = std::make_shared<CommonArgs>();
  auto options = std::make_shared<bench::IdleOptions>();
  auto protocol = std::make_shared<std::string>("echo");
  auto* cmd = bench_cmd->add_subcommand(
      "idle", "Open N idle connections, check each is served, report server memory per connection");
  add_common(cmd, args.get());
  cmd->add_option("-c,--connections", options->connections, "Connections")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--protocol", *protocol, "echo (a byte echoed back) or ftp (login, NOOP)")
      ->check(CLI::IsMember({"echo", "ftp"}))
      ->capture_default_str();
  cmd->add_option("--timeout", options->timeout, "Seconds to open them, and again to check them")
      ->capture_default_str();
  cmd->callback([args, options, protocol, exit_code] {
    guarded(exit_code, [&] {
      options->protocol =
          *protocol == "ftp" ? bench::IdleProtocol::kFtp : bench::IdleProtocol::kEcho;
      auto target = make_target(*args);
      auto r = bench::run_idle(target, *options);
      auto report = start_report(*args, "idle");
      report.add_text("protocol", *protocol);
      report.add("connections", options->connections, "", 0);
      report.add("opened", r.opened, "", 0);
      report.add("answered", r.answered, "", 0);
      report.add("open_s", r.open_seconds, "s", 2);
      add_failures(report, r.failures);
      if (args->server_pid && r.before.processes > 0) {
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
      print(*args, report);
      return r.answered == options->connections ? 0 : 1;
    });
  });
}

}  // namespace

void add_bench_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "bench", "The load generator: measures netmodels and any other server the same way");
  cmd->require_subcommand(1);
  add_echo(cmd, exit_code);
  add_ftp_commands(cmd, exit_code);
  add_idle(cmd, exit_code);
}

}  // namespace nm
