#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/ftp_reply.hpp"
#include "client/ftp_url.hpp"
#include "client/remote_listing.hpp"
#include "client/timed_io.hpp"
#include "client/tls_channel.hpp"
#include "net/address.hpp"
#include "net/fd.hpp"

namespace nm::client {

struct ConnectionOptions {
  Millis timeout{30000};  // for connecting and for every wait on the control or data connection
  bool passive = true;
  TlsMode tls = TlsMode::kOff;
  TlsOptions tls_options;
  // Receives every command sent ("--> ...", password hidden) and reply line ("<-- ...").
  std::function<void(std::string_view)> trace;
};

// Receives downloaded bytes; throws to abort the transfer.
using Sink = std::function<void(std::string_view)>;
// Fills the buffer with bytes to upload; returns 0 at the end. Throws to abort the transfer.
using Source = std::function<size_t(char* buf, size_t n)>;

// The control connection to one FTP server, and the data connections it opens.
// Refusals throw FtpError and leave the connection usable. A control connection that breaks,
// times out or stops making sense throws NetworkError or ProtocolError and is closed
// (connected() turns false); a failed data connection leaves the control connection usable.
// Under TLS (RFC 4217) the data connections are protected too, each resuming the control
// connection's TLS session, as servers that insist on it (vsftpd's require_ssl_reuse) demand.
class FtpConnection {
 public:
  // Connects, reads the greeting and, as `options.tls` says, secures the control connection.
  FtpConnection(const std::string& host, uint16_t port, ConnectionOptions options);

  const Reply& greeting() const { return greeting_; }
  const Address& peer() const { return peer_; }
  bool connected() const { return control_.valid(); }
  // What protects the session, in a sentence for the user.
  std::string security() const;

  // USER and PASS; `ask_password` is called only when the server wants a password and none was
  // given. An empty user logs in as anonymous. Under TLS, then PBSZ 0 and PROT P.
  Reply login(const std::string& user, const std::optional<std::string>& password,
              const std::function<std::string()>& ask_password);
  // Sends one command and returns its reply, whatever it says.
  Reply send(std::string_view command);
  // Sends one command; throws FtpError unless the reply is of `kind` (2: done, 3: go on).
  Reply require(std::string_view command, int kind = 2);

  std::string pwd();
  void cwd(const std::string& path);
  void mkd(const std::string& path);
  void rmd(const std::string& path);
  void dele(const std::string& path);
  void rename(const std::string& from, const std::string& to);
  // The size of a file; nullopt when the server cannot tell (no such file, or no SIZE command).
  std::optional<uint64_t> size(const std::string& path);
  void set_binary(bool binary);
  bool binary() const { return binary_; }
  void set_passive(bool passive) { options_.passive = passive; }
  bool passive() const { return options_.passive; }

  // Downloads `path` into `sink`, from byte `offset` on (REST) when not 0.
  Reply retrieve(const std::string& path, uint64_t offset, const Sink& sink);
  // Uploads `source` as `path`, appending to it (APPE) when `append`.
  Reply store(const std::string& path, bool append, const Source& source);
  // LIST: the server's long listing, as text.
  std::string list(const std::string& path);
  // NLST: the names in a folder.
  std::vector<std::string> name_list(const std::string& path);
  // The names in a folder and which are folders: MLSD where the server has it, else NLST and a
  // CWD into each name (what the server lets us enter is a folder). An empty folder is none.
  std::vector<RemoteEntry> entries(const std::string& path);
  // Whether `path` is a folder the server lets us enter (CWD there and back).
  bool is_folder(const std::string& path);
  // The server's FEAT lines, upper-cased and trimmed ("MLST TYPE*;SIZE*;", "AUTH TLS"); asked
  // once. Empty when the server has no FEAT.
  const std::vector<std::string>& features();
  // QUIT, without caring whether the server still answers.
  void quit();

 private:
  Reply read_reply();
  void send_line(std::string_view command);
  void trace(std::string_view direction, std::string_view line) const;
  // AUTH TLS and the handshake, when the mode and (for kOptional) the server's FEAT say so.
  void secure_control();
  void protect_data();
  Fd open_passive();
  Fd open_active_listener();
  // Runs one transfer command over a fresh data connection; `body` moves the bytes.
  Reply transfer(const std::string& command, uint64_t offset,
                 const std::function<void(Channel& data)>& body);
  std::string read_to_end(Channel& data);
  // CWD `path`, and back to the absolute `back` when it worked.
  bool enters(const std::string& path, const std::string& back);
  std::optional<std::vector<std::string>> features_;
  // Closes the control connection when `action` breaks it, and rethrows.
  template <typename F>
  auto guarded(F&& action) -> decltype(action());

  ConnectionOptions options_;
  std::string host_;                 // as given: the name the certificate must hold
  std::unique_ptr<TlsContext> tls_;  // set once TLS is wanted
  std::string tls_refused_;          // kOptional: why the session stays in clear
  bool protected_data_ = false;      // PROT P accepted
  Channel control_;
  Address peer_;
  ReplyParser replies_;  // the control connection's bytes, read but not yet taken as replies
  Reply greeting_;
  bool binary_ = false;
  bool epsv_refused_ = false;
};

}  // namespace nm::client
