#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>

#include "client/timed_io.hpp"
#include "net/fd.hpp"

namespace nm::client {

struct TlsOptions {
  std::string ca_file;    // trust these certificates instead of the system's store
  bool insecure = false;  // accept any certificate (self-signed test servers)
};

// The OpenSSL context of one client connection and its data connections: owned by the
// FtpConnection, used only from the client's one thread.
class TlsContext {
 public:
  // Throws std::runtime_error when the CA file cannot be read.
  explicit TlsContext(const TlsOptions& options);
  SSL_CTX* get() const { return ctx_.get(); }
  bool verifies() const { return !insecure_; }

 private:
  struct Free {
    void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
  };
  std::unique_ptr<SSL_CTX, Free> ctx_;
  bool insecure_;
};

struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

// A client SSL on `fd`, set to check that the certificate names `host` (when `context`
// verifies) and to resume `resume` (or null). Null when OpenSSL fails (openssl_error() says
// why). Shared with the load generator's non-blocking clients (bench/ftp_client.cpp).
SslPtr new_client_ssl(const TlsContext& context, int fd, const std::string& host,
                      SSL_SESSION* resume);
// Why the peer's certificate was refused after a failed handshake, or empty when it was not.
std::string certificate_problem(const SSL* ssl);
// The first error OpenSSL queued (the cause; later ones are consequences); empties the queue.
std::string openssl_error();

// One connection, the control one or a data one, in clear or under TLS (OpenSSL straight on the
// socket: the client blocks anyway, with every wait bounded by a poll). Owned by the FtpConnection
// that opened it, used only from the client's one thread.
class Channel {
 public:
  Channel() = default;
  explicit Channel(Fd fd) : fd_(std::move(fd)) {}

  bool valid() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }
  bool secure() const { return ssl_ != nullptr; }

  // The TLS client handshake, checking that the certificate names `host`. `resume` is a session
  // to take up again (the control connection's, for a data connection), or null. Throws
  // NetworkError naming what failed: the certificate check says why and what to do about it.
  void start_tls(const TlsContext& context, const std::string& host, SSL_SESSION* resume,
                 Millis timeout, std::string_view what);
  // Reads what is there, up to n bytes; 0 at the end of the stream.
  size_t read_some(char* buf, size_t n, Millis timeout, std::string_view what);
  void write_all(std::string_view data, Millis timeout, std::string_view what);
  // A clean end: under TLS, our close_notify, then the peer's (or its EOF), so that the peer
  // knows the stream was not cut short. In clear, just the close.
  void finish(Millis timeout, std::string_view what);
  // An abrupt close: no close_notify, so that a peer receiving an upload cannot take a cut
  // stream for a complete one.
  void reset();

  // The session to resume on a data connection; the caller frees it. With TLS 1.3 it exists
  // only once a reply was read after the handshake (the server sends it as a ticket then).
  SSL_SESSION* session() const { return ssl_ ? SSL_get1_session(ssl_.get()) : nullptr; }
  bool resumed() const { return ssl_ && SSL_session_reused(ssl_.get()) == 1; }
  // "TLSv1.3, TLS_AES_256_GCM_SHA384"; empty in clear.
  std::string description() const;

 private:
  // Runs one OpenSSL call until it stops asking to wait; returns its result (> 0 or the final
  // error code from SSL_get_error, negated).
  template <typename Call>
  int drive(Call&& call, Millis timeout, std::string_view what);

  Fd fd_;
  SslPtr ssl_;
};

}  // namespace nm::client
