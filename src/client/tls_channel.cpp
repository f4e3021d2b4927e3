#include "client/tls_channel.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <poll.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <stdexcept>

#include "net/socket.hpp"

namespace nm::client {
namespace {

bool is_ip_literal(const std::string& host) {
  unsigned char scratch[16];
  return inet_pton(AF_INET, host.c_str(), scratch) == 1 ||
         inet_pton(AF_INET6, host.c_str(), scratch) == 1;
}

std::string io_failure(int ssl_error, std::string_view what) {
  if (ssl_error == SSL_ERROR_SYSCALL) {
    return errno != 0 ? fmt::format("{}: {}", what, errno_text())
                      : fmt::format("{}: the server closed the connection", what);
  }
  return fmt::format("{}: TLS: {}", what, openssl_error());
}

}  // namespace

std::string openssl_error() {
  unsigned long first = ERR_get_error();
  while (ERR_get_error() != 0) {
  }
  if (first == 0) return "unknown TLS error";
  const char* reason = ERR_reason_error_string(first);
  return reason ? reason : fmt::format("OpenSSL error {:#x}", first);
}

std::string certificate_problem(const SSL* ssl) {
  long verdict = SSL_get_verify_result(ssl);
  return verdict == X509_V_OK ? std::string() : X509_verify_cert_error_string(verdict);
}

SslPtr new_client_ssl(const TlsContext& context, int fd, const std::string& host,
                      SSL_SESSION* resume) {
  SslPtr ssl(SSL_new(context.get()));
  if (!ssl || SSL_set_fd(ssl.get(), fd) != 1) return nullptr;
  // SSL_set1_host takes an IP literal as an address to find among the certificate's names.
  if (context.verifies()) SSL_set1_host(ssl.get(), host.c_str());
  if (!is_ip_literal(host)) SSL_set_tlsext_host_name(ssl.get(), host.c_str());
  if (resume) SSL_set_session(ssl.get(), resume);
  return ssl;
}

TlsContext::TlsContext(const TlsOptions& options) : insecure_(options.insecure) {
  // OpenSSL writes to the socket with write(2), which raises SIGPIPE when the server is gone;
  // the error return is what the client handles.
  std::signal(SIGPIPE, SIG_IGN);
  ctx_.reset(SSL_CTX_new(TLS_client_method()));
  if (!ctx_) throw std::runtime_error("TLS: " + openssl_error());
  SSL_CTX_set_min_proto_version(ctx_.get(), TLS1_2_VERSION);
  // A server may end a data connection by closing it without close_notify; the 226 on the
  // (protected) control connection is what says the transfer was complete.
  SSL_CTX_set_options(ctx_.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx_.get(), SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (insecure_) {
    SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_NONE, nullptr);
    return;
  }
  SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, nullptr);
  if (!options.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx_.get(), options.ca_file.c_str(), nullptr) != 1) {
      throw std::runtime_error(
          fmt::format("--ca-file {}: no certificate read ({})", options.ca_file, openssl_error()));
    }
  } else if (SSL_CTX_set_default_verify_paths(ctx_.get()) != 1) {
    throw std::runtime_error("TLS: cannot read the system's CA store: " + openssl_error());
  }
}

template <typename Call>
int Channel::drive(Call&& call, Millis timeout, std::string_view what) {
  for (;;) {
    ERR_clear_error();
    errno = 0;
    int rc = call(ssl_.get());
    if (rc > 0) return SSL_ERROR_NONE;
    int error = SSL_get_error(ssl_.get(), rc);
    if (error == SSL_ERROR_WANT_READ) {
      wait_ready(fd_.get(), POLLIN, timeout, what);
    } else if (error == SSL_ERROR_WANT_WRITE) {
      wait_ready(fd_.get(), POLLOUT, timeout, what);
    } else {
      return error;
    }
  }
}

void Channel::start_tls(const TlsContext& context, const std::string& host, SSL_SESSION* resume,
                        Millis timeout, std::string_view what) {
  ssl_ = new_client_ssl(context, fd_.get(), host, resume);
  if (!ssl_) throw NetworkError(fmt::format("{}: TLS: {}", what, openssl_error()));
  int error = drive([](SSL* ssl) { return SSL_connect(ssl); }, timeout, what);
  if (error == SSL_ERROR_NONE) return;
  std::string problem = certificate_problem(ssl_.get());
  std::string message =
      !problem.empty()
          ? fmt::format(
                "{}: the server's certificate is not accepted for {}: {}. If this is the "
                "server you meant, trust its certificate (or its CA's) with --ca-file FILE, or "
                "skip the check with --insecure",
                what, host, problem)
          : io_failure(error, fmt::format("{}: TLS handshake", what));
  ERR_clear_error();
  ssl_.reset();
  throw NetworkError(message);
}

size_t Channel::read_some(char* buf, size_t n, Millis timeout, std::string_view what) {
  if (!ssl_) return client::read_some(fd_.get(), buf, n, timeout, what);
  int got = 0;
  int chunk = static_cast<int>(std::min<size_t>(n, INT_MAX));
  int error = drive([&](SSL* ssl) { return got = SSL_read(ssl, buf, chunk); }, timeout, what);
  if (error == SSL_ERROR_NONE) return static_cast<size_t>(got);
  if (error == SSL_ERROR_ZERO_RETURN) return 0;
  throw NetworkError(io_failure(error, what));
}

void Channel::write_all(std::string_view data, Millis timeout, std::string_view what) {
  if (!ssl_) return client::write_all(fd_.get(), data, timeout, what);
  while (!data.empty()) {
    int sent = 0;
    int chunk = static_cast<int>(std::min<size_t>(data.size(), INT_MAX));
    int error =
        drive([&](SSL* ssl) { return sent = SSL_write(ssl, data.data(), chunk); }, timeout, what);
    if (error != SSL_ERROR_NONE) throw NetworkError(io_failure(error, what));
    data.remove_prefix(static_cast<size_t>(sent));
  }
}

void Channel::finish(Millis timeout, std::string_view what) {
  if (ssl_) {
    // SSL_shutdown answers 0 once our close_notify is out and the peer's has not come yet.
    auto send_ours = [](SSL* ssl) {
      int rc = SSL_shutdown(ssl);
      return rc == 0 ? 1 : rc;
    };
    bool peer_done = (SSL_get_shutdown(ssl_.get()) & SSL_RECEIVED_SHUTDOWN) != 0;
    int error = drive(send_ours, timeout, what);
    // Once the peer ended the stream, our close_notify is a courtesy it may no longer read;
    // before that (an upload) it is the end of the file, and failing to send it is an error.
    if (error != SSL_ERROR_NONE && !peer_done) {
      auto message = io_failure(error, what);
      reset();
      throw NetworkError(message);
    }
    if (!peer_done) {
      try {
        // The peer's close_notify (or its EOF) says it read everything we sent. How it ends
        // does not matter beyond that: the reply on the control connection tells the outcome.
        drive([](SSL* ssl) { return SSL_shutdown(ssl); }, timeout, what);
      } catch (const NetworkError&) {
      }
      ERR_clear_error();
    }
  }
  reset();
}

void Channel::reset() {
  ssl_.reset();
  fd_.reset();
}

std::string Channel::description() const {
  if (!ssl_) return "";
  return fmt::format("{}, {}", SSL_get_version(ssl_.get()), SSL_get_cipher_name(ssl_.get()));
}

}  // namespace nm::client
