#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <iostream>

#include "app/commands.hpp"
#include "models/model.hpp"
#include "net/signals.hpp"
#include "net/socket.hpp"
#include "services/ftp/users_file.hpp"
#include "services/registry.hpp"

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

FtpConfig ftp_config(const ServeArgs& args) {
  FtpConfig ftp;
  ftp.root = args.root;
  ftp.anonymous = !args.no_anonymous;
  ftp.anonymous_write = args.anonymous_write;
  ftp.show_hidden = args.show_hidden;
  for (const auto& spec : args.users) {
    auto colon = spec.find(':');
    if (colon == std::string::npos || colon == 0) {
      throw std::runtime_error("--user wants NAME:PASSWORD, got '" + spec + "'");
    }
    FtpUser user;
    user.name = spec.substr(0, colon);
    user.plain_password = spec.substr(colon + 1);
    user.root = args.root;
    user.rights = FtpRights{true, true, true, true, true};
    ftp.users.push_back(std::move(user));
  }
  if (!args.users_file.empty()) {
    for (auto& user : load_users_file(args.users_file)) ftp.users.push_back(std::move(user));
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
  return ftp;
}

int serve(ServeArgs& args) {
  auto logger = spdlog::stderr_color_mt("netmodels");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(args.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%P] %v");

  auto address = Address::parse(args.listen);
  if (!address) {
    std::cerr << "netmodels serve: --listen wants HOST:PORT or [V6]:PORT, got '" << args.listen
              << "'\n";
    return 2;
  }
  ServiceOptions service_options;
  service_options.quiet = args.quiet;
  std::unique_ptr<Service> service;
  try {
    if (args.service == "ftp") service_options.ftp = ftp_config(args);
    service = make_service(args.service, service_options);
  } catch (const std::exception& e) {
    std::cerr << "netmodels serve: " << e.what() << "\n";
    return 2;
  }
  auto model = make_model(args.model);
  if (auto reason = model->unavailable(); !reason.empty()) {
    std::cerr << "netmodels serve: model " << args.model << " is not available: " << reason << "\n";
    return 1;
  }

  ServerContext context;
  context.service = service.get();
  context.options = args.server;
  context.options.idle_timeout = seconds_to_ms(args.idle_timeout);
  context.options.data_timeout = seconds_to_ms(args.data_timeout);
  context.options.command_timeout = seconds_to_ms(args.command_timeout);
  context.options.login_timeout = seconds_to_ms(args.login_timeout);
  try {
    context.listener = listen_on(*address, ListenOptions{args.server.backlog, true, false});
  } catch (const std::exception& e) {
    std::cerr << "netmodels serve: " << e.what() << "\n";
    return 1;
  }
  context.stop_fd = install_stop_signals();

  // The one line on stdout: scripts and tests read the real port from it.
  std::printf("listening on %s\n", local_address(context.listener.get()).to_string().c_str());
  std::fflush(stdout);
  spdlog::info("serving {} with the {} model on {}", args.service, args.model,
               local_address(context.listener.get()).to_string());
  try {
    model->run(context);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  spdlog::info("stopped");
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
  cmd->add_option("--max-clients", args->server.max_clients,
                  "Refuse connections past this many at once (0: no limit)");
  cmd->add_option("--max-per-ip", args->server.max_per_ip,
                  "Refuse connections past this many from one address (0: no limit)");
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
  auto* ftp = "FTP";
  cmd->add_option("--root", args->root, "Folder served to users")
      ->group(ftp)
      ->capture_default_str();
  cmd->add_option("--user", args->users, "NAME:PASSWORD of a read-write user (repeatable)")
      ->group(ftp)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--users", args->users_file, "File of users with hashed passwords")->group(ftp);
  cmd->add_flag("--no-anonymous", args->no_anonymous, "Refuse anonymous logins")->group(ftp);
  cmd->add_flag("--anonymous-write", args->anonymous_write, "Let anonymous users upload")
      ->group(ftp);
  cmd->add_flag("--show-hidden", args->show_hidden, "List dot files too")->group(ftp);
  cmd->add_option("--pasv-ports", args->pasv_ports, "MIN-MAX ports for passive data connections")
      ->group(ftp);
  cmd->add_option("--pasv-address", args->pasv_address,
                  "IPv4 address announced in PASV replies (behind NAT)")
      ->group(ftp);
  cmd->callback([args, exit_code] { *exit_code = serve(*args); });
}

}  // namespace nm
