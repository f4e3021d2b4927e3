#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

#include "app/commands.hpp"
#include "bench/modes.hpp"
#include "net/byte_size.hpp"

namespace nm {
namespace {

using bench::ModeOptions;

struct CommonArgs {
  ModeOptions mode;
  bool json = false;
  bool csv = false;

  // The options as the bench layer takes them, the output format read from the flags.
  const ModeOptions& resolved() {
    mode.format = json  ? bench::OutputFormat::kJson
                  : csv ? bench::OutputFormat::kCsv
                        : bench::OutputFormat::kTable;
    return mode;
  }
};

void add_common(CLI::App* cmd, CommonArgs* args) {
  ModeOptions& m = args->mode;
  cmd->add_option("--host", m.host, "Server to load, HOST:PORT")->capture_default_str();
  cmd->add_option("--user", m.user, "FTP user")->capture_default_str();
  cmd->add_option("--password", m.password, "FTP password")->capture_default_str();
  cmd->add_option("--server-pid", m.server_pid,
                  "Report the CPU and memory of this process and its descendants");
  cmd->add_option("--threads", m.threads, "Load threads (default: one per core)");
  cmd->add_option("--label", m.label, "Text copied into the results (e.g. the server name)");
  auto* json = cmd->add_flag("--json", args->json, "Results as one JSON object");
  cmd->add_flag("--csv", args->csv, "Results as CSV: a header line and one row")->excludes(json);
}

// The measured window of the closed-loop modes.
void add_duration(CLI::App* cmd, double* duration, double* warmup) {
  cmd->add_option("-d,--duration", *duration, "Seconds measured")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--warmup", *warmup, "Seconds run before measuring")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
}

void add_echo(CLI::App* bench_cmd, int* exit_code) {
  auto args = std::make_shared<CommonArgs>();
  args->mode.host = "127.0.0.1:7007";
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
  add_duration(cmd, &options->duration, &options->warmup);
  cmd->add_option("--idle", options->idle,
                  "Also open this many idle connections first, that send nothing while the "
                  "others exchange messages")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  cmd->add_option("--idle-timeout", options->idle_timeout, "Seconds to open the idle connections")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->callback([args, options, exit_code] {
    *exit_code = bench::run_echo_mode(args->resolved(), *options);
  });
}

void add_connect_rate(CLI::App* bench_cmd, int* exit_code) {
  auto args = std::make_shared<CommonArgs>();
  args->mode.host = "127.0.0.1:7007";
  auto options = std::make_shared<bench::EchoOptions>();
  options->connections = 4;
  auto* cmd = bench_cmd->add_subcommand(
      "connect-rate",
      "N clients each looping connect, send one message, read its echo, close, for T seconds");
  add_common(cmd, args.get());
  cmd->add_option("-c,--connections,--clients", options->connections, "Concurrent clients")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  cmd->add_option("-s,--size", options->size, "Message size in bytes")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  add_duration(cmd, &options->duration, &options->warmup);
  cmd->callback([args, options, exit_code] {
    *exit_code = bench::run_connect_rate_mode(args->resolved(), *options);
  });
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
  add_duration(cmd, &options->duration, &options->warmup);
  cmd->add_flag("--login-storm", *storm,
                "Instead: N clients connect and log in at once; seconds until all are in");
  cmd->add_option("--timeout", *timeout, "--login-storm: give up after this many seconds")
      ->capture_default_str();
  auto* tls = cmd->add_flag("--tls", args->mode.tls,
                            "--login-storm: explicit FTPS, AUTH TLS and a full handshake first");
  cmd->add_option("--ca-file", args->mode.ca_file,
                  "With --tls: trust this CA (or certificate) instead of the system's store")
      ->needs(tls)
      ->check(CLI::ExistingFile);
  cmd->callback([args, options, storm, timeout, exit_code] {
    *exit_code = *storm ? bench::run_login_storm_mode(args->resolved(), options->clients, *timeout)
                        : bench::run_ftp_sessions_mode(args->resolved(), *options);
  });
}

void add_ftp_login_storm(CLI::App* bench_cmd, int* exit_code) {
  auto args = std::make_shared<CommonArgs>();
  auto options = std::make_shared<bench::WatchedStormOptions>();
  auto* cmd = bench_cmd->add_subcommand(
      "ftp-login-storm",
      "A logged-in watcher sends NOOP every interval while N clients log in at once and QUIT: "
      "how long the storm takes and how long the watcher waits");
  add_common(cmd, args.get());
  cmd->add_option("-c,--connections,--clients", options->clients, "Clients logging in at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--watch-interval-ms", options->watch_interval_ms,
                  "The watcher's NOOP period, in milliseconds")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 60000.0));
  cmd->add_option("--timeout", options->timeout, "Give up after this many seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->callback([args, options, exit_code] {
    *exit_code = bench::run_watched_storm_mode(args->resolved(), *options);
  });
}

// "1G", "10M", "512K" or plain bytes (net/byte_size.hpp).
uint64_t parse_size(const std::string& text) {
  auto bytes = parse_byte_size(text);
  if (!bytes) {
    throw std::runtime_error("--size wants bytes with an optional K, M or G, got '" + text + "'");
  }
  return *bytes;
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
    if (*parallel > 0) {
      *exit_code =
          bench::run_parallel_mode(args->resolved(), *parallel, *parallel_file, options->timeout);
      return;
    }
    try {
      options->stor_bytes = parse_size(*size);
    } catch (const std::exception& e) {
      std::cerr << "netmodels bench: " << e.what() << "\n";
      *exit_code = 1;
      return;
    }
    *exit_code = bench::run_transfer_mode(args->resolved(), *options);
  });
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
    options->protocol = *protocol == "ftp" ? bench::IdleProtocol::kFtp : bench::IdleProtocol::kEcho;
    *exit_code = bench::run_idle_mode(args->resolved(), *options);
  });
}

}  // namespace

void add_bench_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "bench", "The load generator: measures netmodels and any other server the same way");
  cmd->require_subcommand(1);
  add_echo(cmd, exit_code);
  add_connect_rate(cmd, exit_code);
  add_ftp_sessions(cmd, exit_code);
  add_ftp_login_storm(cmd, exit_code);
  add_ftp_transfer(cmd, exit_code);
  add_idle(cmd, exit_code);
}

}  // namespace nm
