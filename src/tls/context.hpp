#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

namespace nm {

// The server's TLS configuration: one SSL_CTX made before any fork or thread, so prefork's
// processes and the reactors' threads share its session-ticket keys. Owned by the serve command
// for the server's lifetime; current() may be called from any thread or forked child.
//
// TLS 1.2 and 1.3 only, forward-secret AEAD ciphers for 1.2 (1.3's suites are all modern), buffers
// released while a connection is idle. A SIGHUP (reload_generation() moving) makes the next
// current() load the certificate and key again into a fresh SSL_CTX, so rotated certificates are
// served without dropping a session: connections made before keep the SSL_CTX they hold.
class TlsContext {
 public:
  // Throws std::runtime_error naming the file and OpenSSL's reason when the certificate or key
  // cannot be used. `key_file` may be empty when `cert_file` holds both (a bundle).
  TlsContext(std::string cert_file, std::string key_file);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // The SSL_CTX for a new connection, reloaded first if a SIGHUP came since the last load. A
  // reload that fails keeps the old certificate (and logs why).
  std::shared_ptr<SSL_CTX> current() const;
  // The loaded certificate's subject and expiry, for the start-up log.
  std::string describe() const;

 private:
  std::shared_ptr<SSL_CTX> build() const;
  std::string describe_locked() const;

  std::string cert_file_;
  std::string key_file_;
  mutable std::mutex mutex_;
  mutable std::shared_ptr<SSL_CTX> ctx_;
  mutable std::atomic<unsigned> generation_{0};
};

// The session-reuse rule for FTPS data connections: a data connection must resume the TLS
// session of its own control connection, not merely some session of this server (else a
// client that steals a passive port could take another user's file). Each control connection
// gets a random token; the tickets and cached sessions its handshake makes carry it (as
// OpenSSL's ticket application data), and the data handshake's session is checked for it.
namespace tls_owner {
// Marks `ssl` (a control connection's, before its handshake) with a new random token, kept by
// the caller for as long as `ssl` lives; returns it.
std::string mark(SSL* ssl, std::string& token_storage);
// Called once the marked connection's handshake ended: stamps the session it made.
void stamp(SSL* ssl);
// True when `ssl`'s handshake resumed a session stamped with `token`.
bool resumed_from(SSL* ssl, const std::string& token);
}  // namespace tls_owner

}  // namespace nm
