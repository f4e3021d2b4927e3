#include "client/program.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "client/file_transfer.hpp"
#include "client/ftp_connection.hpp"
#include "client/ftp_url.hpp"
#include "client/line_editor.hpp"
#include "client/netrc.hpp"
#include "client/shell.hpp"
#include "client/terminal.hpp"

namespace nm::client {
namespace {

std::string ask_password(const FtpTarget& target) {
  auto password = prompt_password(fmt::format("Password for {}: ", target.user));
  if (!password) {
    throw std::runtime_error(
        "a password is needed and there is no terminal to ask it on: "
        "give it as USER:PASSWORD");
  }
  return *password;
}

// The scheme says what TLS to use; --tls and --no-tls may strengthen or drop the default.
TlsMode tls_mode(const FtpTarget& target, const ClientOptions& args) {
  if (args.tls && args.no_tls) throw std::invalid_argument("--tls and --no-tls contradict");
  if (args.insecure && !args.ca_file.empty()) {
    throw std::invalid_argument("--ca-file and --insecure contradict");
  }
  if (args.no_tls) {
    if (target.tls != TlsMode::kOptional) {
      throw std::invalid_argument("--no-tls contradicts an ftps:// or ftpes:// URL");
    }
    return TlsMode::kOff;
  }
  if (args.tls && target.tls == TlsMode::kOptional) return TlsMode::kExplicit;
  return target.tls;
}

// A target without a password takes its login from --netrc-file or ~/.netrc. An unsafe
// ~/.netrc is only warned about (the session may not need it); a file asked for by name must work.
void apply_netrc(FtpTarget& target, const ClientOptions& args) {
  if (target.password) return;
  std::string path = args.netrc_file;
  if (path.empty()) {
    const char* home = std::getenv("HOME");
    if (!home) return;
    path = std::string(home) + "/.netrc";
  }
  std::optional<NetrcEntry> entry;
  try {
    entry = read_netrc(path, target.host, target.user);
  } catch (const std::runtime_error& e) {
    if (!args.netrc_file.empty()) throw;
    fmt::print(stderr, "netmodels ftp: {}\n", e.what());
    return;
  }
  if (!entry) return;
  if (target.user.empty()) target.user = entry->login;
  if (entry->password) target.password = entry->password;
}

// `target` is updated with a password typed at the prompt, so that a reconnection does not ask
// it again.
std::unique_ptr<FtpConnection> open_session(FtpTarget& target, const ClientOptions& args,
                                            bool chatty) {
  apply_netrc(target, args);
  ConnectionOptions options;
  options.timeout = Millis(static_cast<int64_t>(args.timeout * 1000));
  options.passive = !args.active;
  options.tls = tls_mode(target, args);
  options.tls_options = TlsOptions{.ca_file = args.ca_file, .insecure = args.insecure};
  if (args.verbose) {
    options.trace = [](std::string_view line) { fmt::print(stderr, "{}\n", line); };
  }
  auto conn = std::make_unique<FtpConnection>(target.host, target.port, options);
  if (chatty) {
    fmt::print("Connected to {}.\n{}\n", conn->peer().to_string(), conn->greeting().text());
  }
  Reply reply;
  try {
    reply = conn->login(target.user, target.password, [&] {
      target.password = ask_password(target);
      return *target.password;
    });
  } catch (const FtpError& e) {
    throw std::runtime_error(fmt::format("login failed: {}", e.what()));
  }
  if (chatty) {
    fmt::print("{}\n{}\nLogged in as {}. Type help for the commands.\n", reply.text(),
               conn->security(), target.user.empty() ? "anonymous" : target.user);
    std::fflush(stdout);
  } else if (args.verbose) {
    fmt::print(stderr, "{}\n", conn->security());
  }
  return conn;
}

int run_script(Shell& shell, const std::vector<std::string>& lines) {
  bool ok = true;
  for (const auto& line : lines) {
    if (shell.finished()) {
      if (!shell.quit_requested()) ok = false;
      break;
    }
    ok = shell.execute(line) && ok;
  }
  if (!shell.finished()) shell.close();
  return ok ? 0 : 1;
}

std::vector<std::string> read_lines(std::istream& in) {
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// ftp://... -> the target, or a usage error.
FtpTarget url_target(const std::string& url) {
  auto target = parse_ftp_url(url);
  if (!target) throw std::invalid_argument("not an ftp:// URL (nor ftps://, ftpes://): " + url);
  return *target;
}

int run_url_command(const ClientOptions& args) {
  const auto& w = args.words;
  bool progress = is_terminal(1) && is_terminal(2);
  TransferOptions options{.resume = false, .progress = progress};
  TransferReport report;
  if (w[0] == "get" && (w.size() == 2 || w.size() == 3)) {
    auto target = url_target(w[1]);
    if (target.path.empty() || target.path.back() == '/') {
      throw std::invalid_argument("the URL names no file: " + w[1]);
    }
    auto conn = open_session(target, args, false);
    try {
      download(*conn, target.path, w.size() == 3 ? w[2] : "", options, &report);
    } catch (const FtpError& e) {
      if (e.reply().code != 550) throw;
      throw std::runtime_error(
          fmt::format("{} does not exist on the server ({})", target.path, e.what()));
    }
    conn->quit();
    return 0;
  }
  if (w[0] == "put" && w.size() == 3) {
    auto target = url_target(w[2]);
    auto conn = open_session(target, args, false);
    upload(*conn, w[1], target.path, options, &report);
    conn->quit();
    return 0;
  }
  if (w[0] == "ls" && w.size() == 2) {
    auto target = url_target(w[1]);
    auto conn = open_session(target, args, false);
    std::fputs(conn->list(target.path).c_str(), stdout);
    conn->quit();
    return 0;
  }
  throw std::invalid_argument("usage: get URL [LOCAL] | put LOCAL URL | ls URL");
}

int run_session(const ClientOptions& args) {
  const std::string& where = args.words[0];
  auto target = looks_like_ftp_url(where) ? parse_ftp_url(where) : parse_target(where);
  if (!target) throw std::invalid_argument("cannot read the server address: " + where);
  bool scripted = !args.commands.empty() || !is_terminal(0);
  bool progress = is_terminal(1) && is_terminal(2);
  auto conn = open_session(*target, args, !scripted);
  if (!target->path.empty()) conn->cwd(target->path);
  ShellOptions options{.progress = progress, .interactive = !scripted};
  if (scripted) {
    // A script stops where the connection broke rather than carry on in a fresh session.
    Shell shell(std::move(conn), nullptr, options);
    return run_script(shell, args.commands.empty() ? read_lines(std::cin) : args.commands);
  }
  auto reconnect = [target = *target, args]() mutable {
    auto fresh = open_session(target, args, false);
    if (!target.path.empty()) fresh->cwd(target.path);
    return fresh;
  };
  Shell shell(std::move(conn), reconnect, options);
  return run_interactive(shell);
}

}  // namespace

int run_client(const ClientOptions& options) {
  try {
    const auto& w = options.words;
    if (w.size() >= 2 && (w[0] == "get" || w[0] == "put" || w[0] == "ls")) {
      return run_url_command(options);
    }
    if (w.size() != 1) throw std::invalid_argument("expected one server address; see --help");
    return run_session(options);
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "netmodels ftp: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "netmodels ftp: {}\n", e.what());
    return 1;
  }
}

}  // namespace nm::client
