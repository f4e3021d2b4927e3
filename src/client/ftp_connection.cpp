#include "client/ftp_connection.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <system_error>

#include "client/data_address.hpp"
#include "net/socket.hpp"
#include "transfer/ascii.hpp"

namespace nm::client {
namespace {

constexpr size_t kChunk = 64 * 1024;

std::string with_argument(std::string_view verb, const std::string& argument) {
  return argument.empty() ? std::string(verb) : fmt::format("{} {}", verb, argument);
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) lines.emplace_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

// FEAT lists "AUTH TLS" (RFC 4217), sometimes with the other mechanisms: "AUTH TLS;TLS-C;SSL".
bool offers_auth_tls(const std::vector<std::string>& features) {
  for (const auto& line : features) {
    if (!line.starts_with("AUTH ")) continue;
    std::string_view mechanisms = std::string_view(line).substr(5);
    while (!mechanisms.empty()) {
      auto end = mechanisms.find_first_of(" ;,");
      if (mechanisms.substr(0, end) == "TLS") return true;
      if (end == std::string_view::npos) break;
      mechanisms.remove_prefix(end + 1);
    }
  }
  return false;
}

struct SessionFree {
  void operator()(SSL_SESSION* session) const { SSL_SESSION_free(session); }
};

}  // namespace

FtpConnection::FtpConnection(const std::string& host, uint16_t port, ConnectionOptions options)
    : options_(std::move(options)), host_(host) {
  if (options_.tls != TlsMode::kOff) tls_ = std::make_unique<TlsContext>(options_.tls_options);
  control_ = Channel(connect_host(host, port, options_.timeout));
  peer_ = peer_address(control_.fd());
  if (options_.tls == TlsMode::kImplicit) {
    guarded([&] { control_.start_tls(*tls_, host_, nullptr, options_.timeout, "implicit TLS"); });
  }
  greeting_ = guarded([&] { return read_reply(); });
  // 120 says "ready in a while": the real greeting follows.
  while (greeting_.code == 120) greeting_ = guarded([&] { return read_reply(); });
  if (!greeting_.ok()) {
    control_.reset();
    throw FtpError(greeting_);
  }
  secure_control();
}

void FtpConnection::secure_control() {
  if (options_.tls != TlsMode::kExplicit && options_.tls != TlsMode::kOptional) return;
  bool required = options_.tls == TlsMode::kExplicit;
  if (!required && !offers_auth_tls(features())) {
    tls_refused_ = "the server offers none (no AUTH TLS in its FEAT)";
    return;
  }
  Reply reply = send("AUTH TLS");
  if (reply.code != 234) {
    if (!required) {
      tls_refused_ = "the server refused AUTH TLS: " + reply.text();
      return;
    }
    control_.reset();
    throw NetworkError(fmt::format(
        "the server refuses TLS (AUTH TLS: {}); --no-tls would go on in clear text", reply.text()));
  }
  try {
    guarded([&] { control_.start_tls(*tls_, host_, nullptr, options_.timeout, "AUTH TLS"); });
  } catch (const NetworkError& e) {
    // No quiet fall back to clear text: whoever broke the handshake could be in the middle.
    if (required) throw;
    throw NetworkError(std::string(e.what()) +
                       "; or, since TLS was not asked for, stay in clear text with --no-tls");
  }
  // What was said in clear text may have been tampered with: ask again under TLS if need be.
  features_.reset();
}

const std::vector<std::string>& FtpConnection::features() {
  if (features_) return *features_;
  Reply reply = send("FEAT");
  features_.emplace();
  if (reply.code != 211) return *features_;
  // The first and last lines are "211-..." and "211 End"; features are the ones between.
  for (size_t i = 1; i + 1 < reply.lines.size(); ++i) {
    std::string line = reply.lines[i];
    std::transform(line.begin(), line.end(), line.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    auto start = line.find_first_not_of(' ');
    if (start != std::string::npos) features_->push_back(line.substr(start));
  }
  return *features_;
}

void FtpConnection::protect_data() {
  if (!control_.secure()) return;
  // PBSZ 0 is a formality RFC 4217 requires before PROT: TLS has no buffer size to agree on.
  Reply reply = send("PBSZ 0");
  if (reply.ok()) reply = send("PROT P");
  if (reply.ok()) {
    protected_data_ = true;
    return;
  }
  if (options_.tls == TlsMode::kOptional) {
    tls_refused_ = "the server refused PROT P: " + reply.text();
    return;
  }
  // Not an FtpError: the caller would take it for a refused login.
  throw std::runtime_error(fmt::format(
      "the server refuses to encrypt the data connections ({}); --no-tls would go on in clear "
      "text",
      reply.text()));
}

std::string FtpConnection::security() const {
  if (!control_.secure()) {
    if (options_.tls == TlsMode::kOff) return "No TLS (--no-tls): the session is in clear text.";
    return fmt::format("No TLS: {}; the session is in clear text.", tls_refused_);
  }
  return fmt::format(
      "{} TLS ({}): {}.{}", options_.tls == TlsMode::kImplicit ? "Implicit" : "Explicit",
      control_.description(),
      protected_data_
          ? "commands and data are encrypted"
          : fmt::format("commands are encrypted, data in clear text ({})", tls_refused_),
      tls_->verifies() ? "" : " The server's certificate was not checked (--insecure).");
}

template <typename F>
auto FtpConnection::guarded(F&& action) -> decltype(action()) {
  if (!control_.valid()) throw NetworkError("not connected");
  try {
    return action();
  } catch (const NetworkError&) {
    control_.reset();
    throw;
  } catch (const ProtocolError&) {
    control_.reset();
    throw;
  } catch (const Interrupted&) {
    // A reply cut in half cannot be resynchronised.
    control_.reset();
    throw;
  }
}

void FtpConnection::trace(std::string_view direction, std::string_view line) const {
  if (options_.trace) options_.trace(fmt::format("{} {}", direction, line));
}

Reply FtpConnection::read_reply() {
  auto trace_line = [this](std::string_view line) { trace("<--", line); };
  for (;;) {
    if (auto reply = replies_.next(trace_line)) return std::move(*reply);
    char* room = replies_.reserve(4096);
    size_t n = control_.read_some(room, 4096, options_.timeout, "control connection");
    if (n == 0) throw NetworkError("the server closed the connection");
    replies_.commit(n);
  }
}

void FtpConnection::send_line(std::string_view command) {
  if (command.find_first_of("\r\n") != std::string_view::npos) {
    throw std::invalid_argument("a name may not hold a line break");
  }
  trace("-->", command.starts_with("PASS ") ? "PASS ****" : command);
  control_.write_all(fmt::format("{}\r\n", command), options_.timeout, "control connection");
}

Reply FtpConnection::send(std::string_view command) {
  Reply reply = guarded([&] {
    send_line(command);
    return read_reply();
  });
  // 421 is the server closing the session (an idle timeout, a shutdown): nothing more will come.
  if (reply.code == 421) control_.reset();
  return reply;
}

Reply FtpConnection::require(std::string_view command, int kind) {
  Reply reply = send(command);
  if (reply.kind() != kind) throw FtpError(std::move(reply));
  return reply;
}

Reply FtpConnection::login(const std::string& user, const std::optional<std::string>& password,
                           const std::function<std::string()>& ask_password) {
  bool anonymous = user.empty() || user == "anonymous" || user == "ftp";
  Reply reply = send("USER " + (user.empty() ? std::string("anonymous") : user));
  if (reply.kind() == 3) {
    // By custom an anonymous user gives an address-like password.
    std::string secret = password ? *password : anonymous ? "netmodels@" : ask_password();
    reply = send("PASS " + secret);
  }
  if (!reply.ok()) throw FtpError(std::move(reply));
  protect_data();
  // Binary is what people mean by "a copy of the file".
  set_binary(true);
  return reply;
}

std::string FtpConnection::pwd() {
  Reply reply = require("PWD");
  auto path = parse_quoted_path(reply.lines.back());
  if (!path) throw ProtocolError("unreadable PWD reply: " + reply.text());
  return *path;
}

void FtpConnection::cwd(const std::string& path) {
  require("CWD " + path);
}
void FtpConnection::mkd(const std::string& path) {
  require("MKD " + path);
}
void FtpConnection::rmd(const std::string& path) {
  require("RMD " + path);
}
void FtpConnection::dele(const std::string& path) {
  require("DELE " + path);
}

void FtpConnection::rename(const std::string& from, const std::string& to) {
  require("RNFR " + from, 3);
  require("RNTO " + to);
}

std::optional<uint64_t> FtpConnection::size(const std::string& path) {
  Reply reply = send("SIZE " + path);
  if (reply.code != 213) return std::nullopt;
  const std::string& line = reply.lines.back();
  if (line.size() < 5) return std::nullopt;
  try {
    return std::stoull(line.substr(4));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

void FtpConnection::set_binary(bool binary) {
  require(binary ? "TYPE I" : "TYPE A");
  binary_ = binary;
}

Fd FtpConnection::open_passive() {
  Reply reply;
  if (!epsv_refused_) {
    reply = send("EPSV");
    if (reply.code == 229) {
      auto port = parse_epsv_reply(reply.lines.back());
      if (!port) throw ProtocolError("unreadable EPSV reply: " + reply.text());
      Address target = peer_;
      target.set_port(*port);
      return connect_address(target, options_.timeout);
    }
    if (reply.kind() != 5) throw FtpError(std::move(reply));
    // Remember the refusal: older servers know only PASV.
    epsv_refused_ = true;
  }
  if (!peer_.is_v4() && !peer_.is_v4_mapped()) {
    throw ProtocolError("the server refuses EPSV, and PASV cannot name an IPv6 address");
  }
  reply = require("PASV");
  auto host_port = parse_pasv_reply(reply.lines.back());
  if (!host_port) throw ProtocolError("unreadable PASV reply: " + reply.text());
  // The address in the reply is ignored, as curl does: behind NAT it is often unreachable, and
  // trusting it would let a server aim our connection at another host.
  Address target = peer_;
  target.set_port(host_port->port);
  return connect_address(target, options_.timeout);
}

Fd FtpConnection::open_active_listener() {
  Address local = local_address(control_.fd());
  local.set_port(0);
  Fd listener;
  try {
    listener = listen_on(local, ListenOptions{.backlog = 1, .nonblocking = true});
  } catch (const std::system_error& e) {
    throw NetworkError(std::string("active mode: ") + e.what());
  }
  Address bound = local_address(listener.get());
  if (bound.is_v4()) {
    require("PORT " + port_argument(bound));
  } else {
    require("EPRT " + eprt_argument(bound));
  }
  return listener;
}

Reply FtpConnection::transfer(const std::string& command, uint64_t offset,
                              const std::function<void(Channel&)>& body) {
  Channel data(options_.passive ? open_passive() : open_active_listener());
  if (offset > 0) require(fmt::format("REST {}", offset), 3);
  Reply first = send(command);
  // Some servers answer an empty listing with a final reply and no data connection at all.
  if (first.ok()) return first;
  if (first.kind() != 1) throw FtpError(std::move(first));
  try {
    if (!options_.passive) data = Channel(accept_from(data.fd(), peer_, options_.timeout));
    if (protected_data_) {
      // The server starts its side of the handshake only after its 1xx reply, so the handshake
      // waits for it. A TLS 1.3 session comes in a ticket after the control handshake; by
      // now (USER, PASS, PBSZ, PROT were answered) it has arrived.
      std::unique_ptr<SSL_SESSION, SessionFree> session(control_.session());
      data.start_tls(*tls_, host_, session.get(), options_.timeout, "data connection");
      trace("---", data.resumed() ? "data connection: TLS session resumed"
                                  : "data connection: new TLS session (not resumed)");
    }
    body(data);
    // For an upload this is the end of the file: under TLS a close_notify, so that the server
    // can tell it from a connection cut short.
    data.finish(options_.timeout, "data connection");
  } catch (const std::exception&) {
    // Closing the data connection ends the transfer on the server's side too; its reply (426
    // or 226) must be read, or it would be taken for the answer to the next command. No
    // close_notify: a cut upload must not look complete.
    data.reset();
    clear_interrupt();
    try {
      guarded([&] { return read_reply(); });
    } catch (const std::exception&) {
    }
    throw;
  }
  Reply last = guarded([&] { return read_reply(); });
  if (!last.ok()) throw FtpError(std::move(last));
  return last;
}

Reply FtpConnection::retrieve(const std::string& path, uint64_t offset, const Sink& sink) {
  return transfer("RETR " + path, offset, [&](Channel& data) {
    std::string buf(kChunk, '\0');
    std::string converted;
    FromNetworkAscii text;
    for (;;) {
      size_t n = data.read_some(buf.data(), buf.size(), options_.timeout, "data connection");
      if (n == 0) break;
      std::string_view chunk(buf.data(), n);
      if (binary_) {
        sink(chunk);
      } else {
        converted.clear();
        text.convert(chunk, converted);
        sink(converted);
      }
    }
    if (!binary_) {
      converted.clear();
      text.finish(converted);
      if (!converted.empty()) sink(converted);
    }
  });
}

Reply FtpConnection::store(const std::string& path, bool append, const Source& source) {
  return transfer((append ? "APPE " : "STOR ") + path, 0, [&](Channel& data) {
    std::string buf(kChunk, '\0');
    std::string converted;
    ToNetworkAscii text;
    for (;;) {
      size_t n = source(buf.data(), buf.size());
      if (n == 0) break;
      std::string_view chunk(buf.data(), n);
      if (binary_) {
        data.write_all(chunk, options_.timeout, "data connection");
      } else {
        converted.clear();
        text.convert(chunk, converted);
        data.write_all(converted, options_.timeout, "data connection");
      }
    }
  });
}

std::string FtpConnection::read_to_end(Channel& data) {
  std::string out;
  char buf[16 * 1024];
  while (size_t n = data.read_some(buf, sizeof(buf), options_.timeout, "data connection")) {
    out.append(buf, n);
  }
  return out;
}

std::string FtpConnection::list(const std::string& path) {
  std::string out;
  transfer(with_argument("LIST", path), 0, [&](Channel& data) { out = read_to_end(data); });
  std::string text;
  for (const auto& line : split_lines(out)) text += line + "\n";
  return text;
}

std::vector<std::string> FtpConnection::name_list(const std::string& path) {
  std::string out;
  transfer(with_argument("NLST", path), 0, [&](Channel& data) { out = read_to_end(data); });
  return split_lines(out);
}

std::vector<RemoteEntry> FtpConnection::entries(const std::string& path) {
  std::vector<RemoteEntry> found;
  auto& features = this->features();
  bool mlsd = std::any_of(features.begin(), features.end(),
                          [](const std::string& f) { return f.starts_with("MLST"); });
  if (mlsd) {
    std::string out;
    transfer(with_argument("MLSD", path), 0, [&](Channel& data) { out = read_to_end(data); });
    for (const auto& line : split_lines(out)) {
      if (auto entry = parse_mlsd_line(line)) found.push_back(std::move(*entry));
    }
    return found;
  }
  try {
    for (const auto& name : name_list(path)) {
      std::string base = base_name(name);
      if (base != "." && base != "..") found.push_back({base, false});
    }
  } catch (const FtpError& e) {
    // Some servers answer the listing of an empty folder with 450/550 "no files".
    if (e.reply().code != 450 && e.reply().code != 550) throw;
    return found;
  }
  std::string here = pwd();
  for (auto& entry : found) entry.directory = enters(join_path(path, entry.name), here);
  return found;
}

bool FtpConnection::enters(const std::string& path, const std::string& back) {
  if (!send("CWD " + path).ok()) return false;
  cwd(back);
  return true;
}

bool FtpConnection::is_folder(const std::string& path) {
  return enters(path, pwd());
}

void FtpConnection::quit() {
  if (!control_.valid()) return;
  try {
    send("QUIT");
  } catch (const std::exception&) {
  }
  control_.reset();
}

}  // namespace nm::client
