#include <functional>
#include <iostream>
#include <memory>
#include <stdexcept>

#include "app/commands.hpp"
#include "bench/echo_load.hpp"
#include "bench/event_loop.hpp"
// FTP#include "bench/ftp_load.hpp"
// IDLE#include "bench/idle_load.hpp"
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

}  // namespace

void add_bench_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "bench", "The load generator: measures netmodels and any other server the same way");
  cmd->require_subcommand(1);
  add_echo(cmd, exit_code);
  // FTPadd_ftp_commands(cmd, exit_code);
  // IDLEadd_idle(cmd, exit_code);
}

}  // namespace nm
