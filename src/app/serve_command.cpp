#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <system_error>

#include "app/commands.hpp"
#include "app/notify.hpp"
#include "app/privileges.hpp"
#include "app/sandbox.hpp"
#include "models/model.hpp"
#include "net/byte_size.hpp"
#include "net/log_format.hpp"
#include "net/logfmt.hpp"
#include "net/signals.hpp"
#include "net/socket.hpp"
#include "server/client_limit.hpp"
#include "server/metrics_endpoint.hpp"
#include "services/ftp/parameters.hpp"
#include "services/ftp/upload_names.hpp"
#include "services/ftp/upload_sweep.hpp"
#include "services/ftp/users_file.hpp"
#include "services/ftp/users_table.hpp"
#include "services/registry.hpp"
#include "tls/context.hpp"

#ifndef NETMODELS_VERSION
#define NETMODELS_VERSION "0.0.0"
#endif

namespace nm {
namespace {

struct ServeArgs {
  std::string service = "ftp";
  std::string model = "epoll";
  std::string listen = "127.0.0.1:2121";
  bool quiet = false;
  double idle_timeout = 300;
  double data_timeout = 60;
  double command_timeout = 30;
  double login_timeout = 60;
  std::string log_level = "info";
  std::string root = ".";
  std::vector<std::string> users;
  std::string users_file;
  std::string config;
  bool no_anonymous = false;
  bool anonymous_write = false;
  bool show_hidden = false;
  std::string pasv_ports;
  std::string pasv_address;
  std::string log_format = "logfmt";
  std::string log_file;
  std::string xferlog;
  std::string umask = "022";
  uint64_t max_hash_size = uint64_t{1} << 30;
  std::string max_rate = "0";
  std::string anon_max_rate = "0";
  std::string run_as;
  bool sandbox = false;
  bool check_config = false;
  // FTPS.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_level;  // empty: optional with a certificate, off without
  bool tls_anonymous_plain = false;
  bool tls_no_reuse = false;
  double tls_handshake_timeout = 10;
  std::string implicit_tls;
  std::string metrics_listen;
  // PROXY protocol.
  std::string proxy_protocol = "off";
  std::string proxy_trusted = "127.0.0.0/8,::1";
  double proxy_timeout = 3;
  bool proxy_protocol_data = false;
  // A farm of instances on one root.
  std::string instance_id;  // empty: default_instance_id()
  bool sweep_on_start = false;
  double drain_timeout = 30;
  ServerOptions server;
};

std::string model_help() {
  std::string text = "Concurrency model:";
  for (const auto& entry : all_models()) {
    text += "\n  " + std::string(entry.traits.name);
    text.append(std::max<size_t>(1, 12 - entry.traits.name.size()), ' ');
    text += std::string(entry.traits.summary);
  }
  return text;
}

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const auto& entry : all_models()) names.emplace_back(entry.traits.name);
  return names;
}

std::chrono::milliseconds seconds_to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

// "MIN-MAX" -> the two ports.
bool parse_port_range(const std::string& text, uint16_t* low, uint16_t* high) {
  auto dash = text.find('-');
  if (dash == std::string::npos) return false;
  unsigned a = 0, b = 0;
  auto r1 = std::from_chars(text.data(), text.data() + dash, a);
  auto r2 = std::from_chars(text.data() + dash + 1, text.data() + text.size(), b);
  if (r1.ec != std::errc() || r2.ec != std::errc() || a == 0 || a > b || b > 65535) return false;
  *low = static_cast<uint16_t>(a);
  *high = static_cast<uint16_t>(b);
  return true;
}

TlsLevel tls_level(const ServeArgs& args) {
  if (args.tls_level.empty()) return args.tls_cert.empty() ? TlsLevel::kOff : TlsLevel::kOptional;
  static const std::pair<const char*, TlsLevel> kLevels[] = {
      {"off", TlsLevel::kOff},
      {"optional", TlsLevel::kOptional},
      {"required", TlsLevel::kRequired},
      {"required-data", TlsLevel::kRequiredData}};
  for (const auto& [name, level] : kLevels) {
    if (args.tls_level != name) continue;
    if (level != TlsLevel::kOff && args.tls_cert.empty()) {
      throw std::runtime_error("--tls " + args.tls_level + " needs --tls-cert FILE");
    }
    return level;
  }
  throw std::runtime_error("--tls wants off, optional, required or required-data, got '" +
                           args.tls_level + "'");
}

// --proxy-protocol and its company into `options`.
void proxy_options(const ServeArgs& args, ServerOptions* options) {
  using Proxy = ServerOptions::ProxyProtocol;
  static const std::pair<const char*, Proxy> kModes[] = {
      {"off", Proxy::kOff}, {"v1", Proxy::kV1}, {"v2", Proxy::kV2}, {"any", Proxy::kAny}};
  bool known = false;
  for (const auto& [name, mode] : kModes) {
    if (args.proxy_protocol == name) {
      options->proxy_protocol = mode;
      known = true;
    }
  }
  if (!known) {
    throw std::runtime_error("--proxy-protocol wants off, v1, v2 or any, got '" +
                             args.proxy_protocol + "'");
  }
  auto trusted = Cidr::parse_list(args.proxy_trusted);
  if (!trusted || trusted->empty()) {
    throw std::runtime_error("--proxy-trusted wants CIDR[,CIDR...] such as 10.0.0.0/8,::1, got '" +
                             args.proxy_trusted + "'");
  }
  options->proxy_trusted = *trusted;
  if (args.proxy_timeout <= 0) throw std::runtime_error("--proxy-timeout wants seconds > 0");
  options->proxy_timeout = seconds_to_ms(args.proxy_timeout);
  if (args.proxy_protocol_data && options->proxy_protocol == Proxy::kOff) {
    throw std::runtime_error(
        "--proxy-protocol-data needs --proxy-protocol v1, v2 or any (the data connections' "
        "headers must name the client the control connection's header named)");
  }
  options->proxy_protocol_data = args.proxy_protocol_data;
}

// With PROXY on and --max-per-ip, the table that counts clients by the header's address (null
// otherwise); `options` then counts per ip no more at accept time.
std::unique_ptr<ClientLimit> client_limit(ServerOptions* options) {
  if (options->proxy_protocol == ServerOptions::ProxyProtocol::kOff || options->max_per_ip == 0) {
    return nullptr;
  }
  // Every connection comes from the balancer: counting per ip at accept time would make the
  // farm one client. The sessions are counted by the header's client instead, once it is read;
  // room for as many as --max-clients admits (or a generous bound: pages are touched as used).
  size_t capacity = options->max_clients ? options->max_clients : size_t{1} << 16;
  auto limit = std::make_unique<ClientLimit>(options->max_per_ip, capacity);
  options->max_per_ip = 0;
  return limit;
}

// Bytes a second, with the K, M, G suffixes of every size; 0: no limit.
uint64_t rate_option(const char* name, const std::string& text) {
  auto rate = parse_byte_size(text);
  if (!rate) {
    throw std::runtime_error(
        std::string(name) + " wants bytes a second with an optional K, M or G, got '" + text + "'");
  }
  return *rate;
}

FtpConfig ftp_config(const ServeArgs& args) {
  // Checked here too (the service checks every root) to name the option.
  if (std::error_code ec; !std::filesystem::is_directory(args.root, ec)) {
    throw std::runtime_error("--root: " + args.root + " is not a folder");
  }
  FtpConfig ftp;
  ftp.tls = tls_level(args);
  ftp.tls_anonymous_plain = args.tls_anonymous_plain;
  if (!args.implicit_tls.empty() && args.tls_cert.empty()) {
    throw std::runtime_error("--implicit-tls needs --tls-cert FILE");
  }
  ftp.root = args.root;
  ftp.anonymous = !args.no_anonymous;
  ftp.anonymous_write = args.anonymous_write;
  ftp.show_hidden = args.show_hidden;
  for (const auto& spec : args.users) ftp.users.push_back(parse_user_option(spec, args.root));
  if (!args.users_file.empty()) {
    try {
      ftp.users_file = std::make_shared<UsersTable>(args.users_file);
    } catch (const std::exception& e) {
      throw std::runtime_error("--users: " + std::string(e.what()));
    }
  }
  if (!args.pasv_ports.empty() &&
      !parse_port_range(args.pasv_ports, &ftp.pasv_port_min, &ftp.pasv_port_max)) {
    throw std::runtime_error("--pasv-ports wants MIN-MAX, got '" + args.pasv_ports + "'");
  }
  if (!args.pasv_address.empty()) {
    ftp.pasv_address = Address::from(args.pasv_address, 0);
    if (!ftp.pasv_address || !ftp.pasv_address->is_v4()) {
      throw std::runtime_error("--pasv-address wants an IPv4 address, got '" + args.pasv_address +
                               "'");
    }
  }
  auto umask = ftp::parse_octal_mode(args.umask);
  if (!umask || *umask > 0777) {
    throw std::runtime_error("--umask wants an octal mask such as 022, got '" + args.umask + "'");
  }
  ftp.umask = *umask;
  ftp.max_hash_size = args.max_hash_size;
  ftp.max_rate = rate_option("--max-rate", args.max_rate);
  ftp.anon_max_rate = rate_option("--anon-max-rate", args.anon_max_rate);
  try {
    if (!args.xferlog.empty()) ftp.xferlog = std::make_shared<XferLog>(args.xferlog);
  } catch (const std::system_error& e) {
    throw std::runtime_error("--xferlog: " + std::string(e.what()));
  }
  return ftp;
}

// stderr (the journal under systemd) or --log-file, as logfmt or JSON lines.
void setup_logging(const ServeArgs& args) {
  LogFormat format;
  if (!parse_log_format(args.log_format, &format)) {
    throw std::runtime_error("--log-format wants logfmt or json, got '" + args.log_format + "'");
  }
  spdlog::sink_ptr sink;
  if (args.log_file.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    sink = std::make_shared<ReopeningFileSink>(args.log_file);
  }
  auto logger = std::make_shared<spdlog::logger>("netmodels", sink);
  logger->set_formatter(make_log_formatter(format));
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(args.log_level));
}

SandboxRules sandbox_rules(const ServeArgs& args, const ServiceOptions& options) {
  SandboxRules rules;
  if (args.service == "ftp") {
    rules.read_write_dirs.push_back(options.ftp.root);
    for (const auto& user : options.ftp.users) rules.read_write_dirs.push_back(user.root);
    // The roots as the server starts: a user added by a SIGHUP reload must live under one.
    if (options.ftp.users_file) {
      for (const auto& user : *options.ftp.users_file->current()) {
        rules.read_write_dirs.push_back(user.root);
      }
    }
  }
  if (!args.users_file.empty()) rules.read_files.push_back(args.users_file);
  // A certificate rotated in place is read again on SIGHUP; one replaced by a new file (a
  // rename, certbot's links) is a new inode the sandbox does not cover: restart instead.
  if (!args.tls_cert.empty()) rules.read_files.push_back(args.tls_cert);
  if (!args.tls_key.empty()) rules.read_files.push_back(args.tls_key);
  if (!args.log_file.empty()) rules.log_files.push_back(args.log_file);
  if (!args.xferlog.empty()) rules.log_files.push_back(args.xferlog);
  return rules;
}

// Started as root: bind first (port 21), then become --run-as for good, before any client.
// Forked and preforked children are started later by the model, so they inherit it.
void settle_privileges(const std::optional<RunAs>& run_as) {
  if (run_as) {
    drop_privileges(*run_as);
    spdlog::info("event=privileges user={} uid={} gid={}", logfmt_value(run_as->user), run_as->uid,
                 run_as->gid);
  } else if (::geteuid() == 0) {
    spdlog::warn("event=privileges user=root result=warn reason={}",
                 logfmt_value("running as root; use --run-as USER to drop privileges"));
  }
}

void settle_sandbox(const ServeArgs& args, const ServiceOptions& options) {
  if (!args.sandbox) return;
  if (apply_sandbox(sandbox_rules(args, options)) == SandboxResult::kApplied) {
    spdlog::info("event=sandbox result=on");
  } else {
    spdlog::warn("event=sandbox result=unsupported reason={}",
                 logfmt_value("the kernel has no Landlock; serving without the sandbox"));
  }
}

// A passive range inside the kernel's ephemeral range shares its ports with outgoing connections
// and their TIME_WAIT: PASV then finds its ports taken at random. Said once, at start.
void warn_pasv_overlap(const FtpConfig& ftp) {
  if (ftp.pasv_port_min == 0) return;
  unsigned low = 0, high = 0;
  std::FILE* f = std::fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
  if (f == nullptr) return;
  bool read = std::fscanf(f, "%u %u", &low, &high) == 2;
  std::fclose(f);
  if (!read || ftp.pasv_port_max < low || ftp.pasv_port_min > high) return;
  spdlog::warn(
      "event=pasv-ports-overlap pasv_ports={}-{} ephemeral={}-{} reason={}", ftp.pasv_port_min,
      ftp.pasv_port_max, low, high,
      logfmt_value("--pasv-ports overlaps net.ipv4.ip_local_port_range; pick a range below it"));
}

// --sweep-on-start: this instance's temporary uploads under every root it serves, whatever their
// age. Nothing of this instance can be uploading yet: it has not served a connection.
void sweep_own_uploads(const FtpConfig& ftp) {
  std::vector<std::string> roots{ftp.root.string()};
  for (const auto& user : ftp.users) roots.push_back(user.root.string());
  if (ftp.users_file) {
    for (const auto& user : *ftp.users_file->current()) roots.push_back(user.root.string());
  }
  std::sort(roots.begin(), roots.end());
  roots.erase(std::unique(roots.begin(), roots.end()), roots.end());
  ftp::SweepOptions options;
  options.instance = ftp.instance_id;
  for (const auto& root : roots) {
    try {
      auto result = ftp::sweep_uploads(root, options, [](const std::string& path, int error) {
        if (error == 0) {
          spdlog::info("event=sweep-removed path={}", logfmt_value(path));
        } else {
          spdlog::warn("event=sweep-failed path={} error={}", logfmt_value(path),
                       logfmt_value(std::strerror(error)));
        }
      });
      spdlog::info("event=sweep root={} instance={} removed={} failed={}", logfmt_value(root),
                   ftp.instance_id, result.removed, result.failed);
    } catch (const std::system_error& e) {
      spdlog::warn("event=sweep-failed root={} error={}", logfmt_value(root),
                   logfmt_value(e.what()));
    }
  }
}

int check_config(const CLI::App& cmd) {
  // Every option with its value, defaults included, in the file's own syntax; the two options
  // that only say how to run the check are left out.
  std::istringstream all(cmd.config_to_str(true, false));
  std::string text;
  for (std::string line; std::getline(all, line);) {
    if (line.rfind("config=", 0) == 0 || line.rfind("check-config=", 0) == 0) continue;
    text += line + "\n";
  }
  std::printf("# netmodels serve: the configuration is valid\n%s", text.c_str());
  return 0;
}

// Configuration errors are thrown (main exits 2) with the option's name in the message, so that
// main can name the config file's line when the option came from there.
int serve(ServeArgs& args, const CLI::App& cmd) {
  try {
    setup_logging(args);
  } catch (const std::system_error& e) {
    throw std::runtime_error("--log-file: " + std::string(e.what()));
  }

  auto address = Address::parse(args.listen);
  if (!address) {
    throw std::runtime_error("--listen wants HOST:PORT or [V6]:PORT, got '" + args.listen + "'");
  }
  if (args.drain_timeout < 0) throw std::runtime_error("--drain-timeout wants 0 or more seconds");
  if (!args.instance_id.empty() && !ftp::valid_instance_id(args.instance_id)) {
    throw std::runtime_error("--instance-id wants 1 to 64 of A-Z a-z 0-9 . _ -, got '" +
                             args.instance_id + "'");
  }
  ServiceOptions service_options;
  service_options.quiet = args.quiet;
  std::unique_ptr<Service> service;
  std::optional<RunAs> run_as;
  if (args.service == "ftp") {
    service_options.ftp = ftp_config(args);
    ::umask(service_options.ftp.umask);
    warn_pasv_overlap(service_options.ftp);
  }
  if (!args.run_as.empty()) run_as = resolve_run_as(args.run_as);
  auto model = make_model(args.model);
  if (auto reason = model->unavailable(); !reason.empty()) {
    std::cerr << "netmodels serve: model " << args.model << " is not available: " << reason << "\n";
    return 1;
  }
  ServerOptions checked;
  proxy_options(args, &checked);
  // The service is made once the listener is bound (the default instance id names its port);
  // the check makes one only to validate it.
  if (args.check_config) {
    make_service(args.service, service_options);
    return check_config(cmd);
  }

  // Before any fork or thread: prefork's processes and the reactors share it, ticket keys too.
  std::unique_ptr<TlsContext> tls;
  if (!args.tls_cert.empty()) {
    if (args.service != "ftp") throw std::runtime_error("--tls-cert: only the ftp service has TLS");
    tls = std::make_unique<TlsContext>(args.tls_cert, args.tls_key);
  }

  ServerContext context;
  context.tls = tls.get();
  context.options = args.server;
  context.options.idle_timeout = seconds_to_ms(args.idle_timeout);
  context.options.data_timeout = seconds_to_ms(args.data_timeout);
  context.options.command_timeout = seconds_to_ms(args.command_timeout);
  context.options.login_timeout = seconds_to_ms(args.login_timeout);
  context.options.tls_handshake_timeout = seconds_to_ms(args.tls_handshake_timeout);
  context.options.tls_require_reuse = !args.tls_no_reuse;
  // Before any fork: fork's children and prefork's workers count in the same table.
  proxy_options(args, &context.options);
  auto limit = client_limit(&context.options);
  context.client_limit = limit.get();
  try {
    context.listener = listen_on(*address, ListenOptions{args.server.backlog, true, false});
    if (!args.implicit_tls.empty()) {
      auto implicit = Address::parse(args.implicit_tls);
      if (!implicit) {
        throw std::runtime_error("--implicit-tls wants HOST:PORT or [V6]:PORT, got '" +
                                 args.implicit_tls + "'");
      }
      context.implicit_listener =
          listen_on(*implicit, ListenOptions{args.server.backlog, true, false});
      context.implicit_tls_port = local_address(context.implicit_listener.get()).port();
      // Connections tell which listener they came through by their local port.
      if (context.implicit_tls_port == local_address(context.listener.get()).port()) {
        throw std::runtime_error("--implicit-tls needs a port of its own, not --listen's");
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "netmodels serve: " << e.what() << "\n";
    return 1;
  }
  std::string instance =
      args.instance_id.empty()
          ? ftp::default_instance_id(local_address(context.listener.get()).port())
          : args.instance_id;
  service_options.ftp.instance_id = instance;
  service = make_service(args.service, service_options);
  context.service = service.get();
  if (args.sweep_on_start && args.service == "ftp") sweep_own_uploads(service_options.ftp);
  set_drain_timeout(seconds_to_ms(args.drain_timeout));
  // Before any fork: the counters must be the children's too.
  std::unique_ptr<MetricsEndpoint> metrics;
  if (!args.metrics_listen.empty()) {
    auto at = Address::parse(args.metrics_listen);
    if (!at) {
      std::cerr << "netmodels serve: --metrics-listen wants HOST:PORT or [V6]:PORT, got '"
                << args.metrics_listen << "'\n";
      return 1;
    }
    try {
      Fd listener = listen_on(*at, ListenOptions{16, false, false});
      spdlog::info("event=metrics listen={}", local_address(listener.get()).to_string());
      enable_shared_metrics();
      metrics = std::make_unique<MetricsEndpoint>(
          std::move(listener), BuildInfo{NETMODELS_VERSION, args.model, args.service, instance});
    } catch (const std::exception& e) {
      std::cerr << "netmodels serve: " << e.what() << "\n";
      return 1;
    }
  }
  auto signals = install_stop_signals();
  context.stop_fd = signals.stop_fd;
  context.drain_fd = signals.drain_fd;
  install_reload_signal();
  try {
    settle_privileges(run_as);
    settle_sandbox(args, service_options);
  } catch (const std::exception& e) {
    spdlog::error("event=start result=fail error={}", logfmt_value(e.what()));
    return 1;
  }

  // The one line on stdout: scripts and tests read the real port from it.
  std::printf("listening on %s\n", local_address(context.listener.get()).to_string().c_str());
  if (context.implicit_listener) {
    std::printf("implicit TLS on %s\n",
                local_address(context.implicit_listener.get()).to_string().c_str());
  }
  if (metrics) std::printf("metrics on %s\n", metrics->address().to_string().c_str());
  std::fflush(stdout);
  spdlog::info("event=start service={} model={} listen={} instance={}", args.service, args.model,
               local_address(context.listener.get()).to_string(), instance);
  if (tls) {
    // kTLS (the kernel encrypting sendfile's pages) needs the kernel's "tls" ULP and a socket
    // BIO; the engine runs over memory BIOs on every model, so it is not used, and the log says
    // whether this kernel could have.
    std::string ulps;
    if (std::FILE* f = std::fopen("/proc/sys/net/ipv4/tcp_available_ulp", "r")) {
      char line[256] = {};
      if (std::fgets(line, sizeof line, f)) ulps = line;
      std::fclose(f);
    }
    spdlog::info("event=ktls result=off kernel={}",
                 ulps.find("tls") != std::string::npos ? "has-tls-ulp" : "no-tls-ulp");
    spdlog::info("event=tls-ready level={} reuse={} implicit={} {}",
                 args.tls_level.empty() ? "optional" : args.tls_level,
                 args.tls_no_reuse ? "off" : "required",
                 context.implicit_listener
                     ? local_address(context.implicit_listener.get()).to_string()
                     : std::string("off"),
                 tls->describe());
  }
  notify_ready();
  if (metrics) metrics->start();
  try {
    model->run(context);
  } catch (const std::exception& e) {
    spdlog::error("event=stop result=fail error={}", logfmt_value(e.what()));
    return 1;
  }
  notify_stopping();
  spdlog::info("event=stop result=ok");
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand("serve", "Run a service on one of the concurrency models");
  cmd->option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cmd->add_option("--service", args->service, "Protocol: ack, echo or ftp")
      ->check(CLI::IsMember(service_names()))
      ->capture_default_str();
  cmd->add_option("--model", args->model, model_help())
      ->check(CLI::IsMember(model_names()))
      ->capture_default_str();
  cmd->add_option("--listen", args->listen, "HOST:PORT or [V6]:PORT to listen on; port 0 picks one")
      ->capture_default_str();
  cmd->add_flag("--quiet", args->quiet, "ack: do not log every chunk received");
  cmd->add_option("--idle-timeout", args->idle_timeout,
                  "Close a connection silent for this many seconds (0: never)")
      ->capture_default_str();
  cmd->add_option("--data-timeout", args->data_timeout,
                  "FTP: abort a data transfer stalled for this many seconds")
      ->capture_default_str();
  cmd->add_option("--command-timeout", args->command_timeout,
                  "Close a connection whose command line is not complete this many seconds "
                  "after its first byte (0: never)")
      ->capture_default_str();
  cmd->add_option("--login-timeout", args->login_timeout,
                  "FTP: close a connection not logged in this many seconds after connecting "
                  "(0: never)")
      ->capture_default_str();
  cmd->add_option("--drain-timeout", args->drain_timeout,
                  "On SIGTERM: stop listening, let running transfers end for up to this many "
                  "seconds (idle sessions get 421), then stop; 0: stop at once. SIGINT, or a "
                  "second SIGTERM, stops at once")
      ->capture_default_str();
  cmd->add_option("--max-clients", args->server.max_clients,
                  "Refuse connections past this many at once (0: no limit)");
  cmd->add_option("--max-per-ip", args->server.max_per_ip,
                  "Refuse connections past this many from one address (0: no limit)");
  auto proxy = "PROXY protocol (behind a balancer)";
  cmd->add_option("--proxy-protocol", args->proxy_protocol,
                  "off, v1, v2 or any: every control connection starts with a PROXY header naming "
                  "the client (no greeting until it is whole)")
      ->group(proxy)
      ->capture_default_str();
  cmd->add_option("--proxy-trusted", args->proxy_trusted,
                  "CIDR[,CIDR...] of the balancers: a connection from anywhere else is closed")
      ->group(proxy)
      ->capture_default_str();
  cmd->add_option("--proxy-timeout", args->proxy_timeout,
                  "Seconds the PROXY header may take to arrive whole")
      ->group(proxy)
      ->capture_default_str();
  cmd->add_flag("--proxy-protocol-data", args->proxy_protocol_data,
                "Every passive data connection starts with a PROXY header too, from a balancer "
                "in --proxy-trusted, naming the control connection's client (needs "
                "--proxy-protocol)")
      ->group(proxy);
  cmd->add_option("--backlog", args->server.backlog, "listen(2) backlog")->capture_default_str();
  cmd->add_option("--workers", args->server.workers,
                  "thread-pool, prefork: workers at start; reactors: loops (default: the number of "
                  "cores)");
  cmd->add_option("--max-workers", args->server.max_workers,
                  "thread-pool, prefork: the most workers the pool grows to under load (--workers "
                  "is where it starts)")
      ->capture_default_str();
  cmd->add_option("--queue", args->server.queue_capacity,
                  "thread-pool: accepted connections waiting for a worker (default 4 x workers)");
  cmd->add_option("--log-level", args->log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  cmd->add_option("--config", args->config, "TOML file holding any of these options");
  cmd->add_flag("--check-config", args->check_config,
                "Validate the options (and --config file), print the effective configuration and "
                "exit: 0 when valid, 2 otherwise");
  cmd->add_option("--log-format", args->log_format, "Log lines as logfmt or json")
      ->check(CLI::IsMember({"logfmt", "json"}))
      ->capture_default_str();
  cmd->add_option("--log-file", args->log_file,
                  "Append the log to FILE instead of stderr; reopened on SIGHUP (logrotate)");
  cmd->add_option("--run-as", args->run_as,
                  "USER[:GROUP]: after binding the listener, drop root for good and serve as USER");
  cmd->add_flag("--sandbox", args->sandbox,
                "Landlock: after start-up, the filesystem is limited to the served roots, the "
                "users file and the log files");
  auto* ftp = "FTP";
  cmd->add_option("--root", args->root, "Folder served to users")
      ->group(ftp)
      ->capture_default_str();
  cmd->add_option("--user", args->users,
                  "NAME:PASSWORD of a user with every right at --root, or "
                  "NAME:PASSWORD:ROOT:RIGHTS (repeatable)")
      ->group(ftp)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--users", args->users_file,
                  "File of users with hashed passwords; re-read on SIGHUP")
      ->group(ftp);
  cmd->add_flag("--no-anonymous", args->no_anonymous, "Refuse anonymous logins")->group(ftp);
  cmd->add_flag("--anonymous-write", args->anonymous_write, "Let anonymous users upload")
      ->group(ftp);
  cmd->add_flag("--show-hidden", args->show_hidden, "List dot files too")->group(ftp);
  cmd->add_option("--pasv-ports", args->pasv_ports, "MIN-MAX ports for passive data connections")
      ->group(ftp);
  cmd->add_option("--pasv-address", args->pasv_address,
                  "IPv4 address announced in PASV replies (behind NAT)")
      ->group(ftp);
  cmd->add_option("--instance-id", args->instance_id,
                  "This instance's name in temporary upload names (.nm-upload-ID-*), so a farm "
                  "on one root tells whose leftovers are whose (default: HOSTNAME-PORT)")
      ->group(ftp);
  cmd->add_flag("--sweep-on-start", args->sweep_on_start,
                "Before serving, remove this instance's temporary uploads (any age) under its "
                "roots: the leftovers of a kill -9")
      ->group(ftp);
  cmd->add_option("--umask", args->umask,
                  "Octal mask for uploads (0666 & ~mask) and new folders (0777 & ~mask)")
      ->group(ftp)
      ->capture_default_str();
  cmd->add_option("--max-hash-size", args->max_hash_size,
                  "The most bytes one HASH digests (0: no limit); bigger files need RANG")
      ->group(ftp)
      ->capture_default_str();
  cmd->add_option("--max-rate", args->max_rate,
                  "Bytes a second on each data connection of a logged-in user (K, M, G; 0: no "
                  "limit); a users file's rate= wins")
      ->group(ftp)
      ->capture_default_str();
  cmd->add_option("--anon-max-rate", args->anon_max_rate,
                  "Bytes a second on each data connection of an anonymous user (K, M, G; 0: no "
                  "limit)")
      ->group(ftp)
      ->capture_default_str();
  cmd->add_option("--xferlog", args->xferlog,
                  "Append every RETR / STOR to FILE in the standard xferlog format")
      ->group(ftp);
  auto tls = "FTPS";
  cmd->add_option("--tls-cert", args->tls_cert,
                  "PEM certificate (chain) for AUTH TLS; may hold the key too; reread on SIGHUP")
      ->group(tls);
  cmd->add_option("--tls-key", args->tls_key, "PEM private key, if not in --tls-cert")->group(tls);
  cmd->add_option("--tls", args->tls_level,
                  "off, optional (the default with a certificate), required (USER needs AUTH "
                  "TLS first) or required-data (transfers need PROT P too)")
      ->group(tls);
  cmd->add_flag("--tls-anonymous-plain", args->tls_anonymous_plain,
                "Let anonymous sessions skip --tls required / required-data")
      ->group(tls);
  cmd->add_flag("--tls-no-reuse", args->tls_no_reuse,
                "Accept PROT P data connections that do not resume the control connection's "
                "TLS session (Python's stock ftplib); weaker: see README")
      ->group(tls);
  cmd->add_option("--implicit-tls", args->implicit_tls,
                  "HOST:PORT of a second listener where TLS comes first (FTPS, 990 by "
                  "convention), PROT P implied")
      ->group(tls);
  cmd->add_option("--tls-handshake-timeout", args->tls_handshake_timeout,
                  "Seconds a TLS handshake (control or data) may take; 0: no limit")
      ->capture_default_str()
      ->group(tls);
  cmd->add_option("--metrics-listen", args->metrics_listen,
                  "HOST:PORT where GET /metrics answers in the Prometheus text format (off by "
                  "default; counts every process of fork and prefork)");
  cmd->callback([args, exit_code, cmd] { *exit_code = serve(*args, *cmd); });
}

}  // namespace nm
