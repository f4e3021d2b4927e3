#include "tls/context.hpp"

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

#include "net/signals.hpp"

namespace nm {
namespace {

// TLS 1.2 suites with forward secrecy and authenticated encryption only (TLS 1.3's are all so).
constexpr const char* kCiphers12 =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
// A control connection may live for hours and every data connection must resume its session.
constexpr long kSessionLifetimeSeconds = 24 * 3600;
constexpr unsigned char kSessionIdContext[] = "netmodels-ftp";
constexpr size_t kTokenSize = 16;

std::string openssl_reason() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof buffer);
  return buffer;
}

int owner_index() {
  static int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Every ticket a marked connection issues carries its token (the ticket is the session,
// encrypted with the server's key, so the token comes back only in a genuine resumption).
int on_ticket_made(SSL* ssl, void*) {
  auto* token = static_cast<std::string*>(SSL_get_ex_data(ssl, owner_index()));
  if (token) SSL_SESSION_set1_ticket_appdata(SSL_get0_session(ssl), token->data(), token->size());
  return 1;
}

// OpenSSL's default decisions; the callback exists only because on_ticket_made needs a pair.
// Data connections take no renewed ticket (see TlsFilter's users: no tickets there at all).
SSL_TICKET_RETURN on_ticket_read(SSL*, SSL_SESSION*, const unsigned char*, size_t,
                                 SSL_TICKET_STATUS status, void*) {
  switch (status) {
    case SSL_TICKET_SUCCESS:
      return SSL_TICKET_RETURN_USE;
    case SSL_TICKET_SUCCESS_RENEW:
      return SSL_TICKET_RETURN_USE_RENEW;
    case SSL_TICKET_EMPTY:
    case SSL_TICKET_NO_DECRYPT:
      return SSL_TICKET_RETURN_IGNORE_RENEW;
    default:
      return SSL_TICKET_RETURN_ABORT;
  }
}

}  // namespace

TlsContext::TlsContext(std::string cert_file, std::string key_file)
    : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)) {
  owner_index();  // made now, before any thread
  ctx_ = build();
  generation_ = reload_generation();
}

TlsContext::~TlsContext() = default;

std::shared_ptr<SSL_CTX> TlsContext::build() const {
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) throw std::runtime_error("cannot create a TLS context: " + openssl_reason());
  SSL_CTX* c = ctx.get();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION);
  SSL_CTX_set_cipher_list(c, kCiphers12);
  SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // An idle connection keeps no 34 KiB of record buffers.
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_SERVER);
  SSL_CTX_set_session_id_context(c, kSessionIdContext, sizeof kSessionIdContext - 1);
  SSL_CTX_set_timeout(c, kSessionLifetimeSeconds);
  SSL_CTX_set_session_ticket_cb(c, on_ticket_made, on_ticket_read, nullptr);
  const std::string& key = key_file_.empty() ? cert_file_ : key_file_;
  if (SSL_CTX_use_certificate_chain_file(c, cert_file_.c_str()) != 1) {
    throw std::runtime_error("cannot use the TLS certificate " + cert_file_ + ": " +
                             openssl_reason());
  }
  if (SSL_CTX_use_PrivateKey_file(c, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw std::runtime_error("cannot use the TLS key " + key + ": " + openssl_reason());
  }
  if (SSL_CTX_check_private_key(c) != 1) {
    throw std::runtime_error("the TLS key " + key + " does not match the certificate " +
                             cert_file_);
  }
  return ctx;
}

std::shared_ptr<SSL_CTX> TlsContext::current() const {
  std::lock_guard lock(mutex_);
  unsigned now = reload_generation();
  if (now != generation_) {
    generation_ = now;
    try {
      ctx_ = build();
      spdlog::info("event=tls-reloaded cert={} {}", cert_file_, describe_locked());
    } catch (const std::exception& e) {
      spdlog::error("event=tls-reload-failed error=\"{}\"", e.what());
    }
  }
  return ctx_;
}

std::string TlsContext::describe() const {
  std::lock_guard lock(mutex_);
  return describe_locked();
}

std::string TlsContext::describe_locked() const {
  X509* cert = SSL_CTX_get0_certificate(ctx_.get());
  if (!cert) return "subject=none";
  char subject[256];
  X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
  std::string expiry = "?";
  if (BIO* bio = BIO_new(BIO_s_mem())) {
    if (ASN1_TIME_print(bio, X509_get0_notAfter(cert)) == 1) {
      char* data = nullptr;
      long size = BIO_get_mem_data(bio, &data);
      expiry.assign(data, static_cast<size_t>(size));
    }
    BIO_free(bio);
  }
  return fmt::format("subject=\"{}\" not_after=\"{}\"", subject, expiry);
}

namespace tls_owner {

std::string mark(SSL* ssl, std::string& token_storage) {
  unsigned char bytes[kTokenSize];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("RAND_bytes failed");
  token_storage.assign(reinterpret_cast<const char*>(bytes), sizeof bytes);
  SSL_set_ex_data(ssl, owner_index(), &token_storage);
  return token_storage;
}

void stamp(SSL* ssl) {
  // A session kept in the server's cache (TLS 1.2 without tickets) is this very object.
  auto* token = static_cast<std::string*>(SSL_get_ex_data(ssl, owner_index()));
  SSL_SESSION* session = SSL_get0_session(ssl);
  if (token && session) SSL_SESSION_set1_ticket_appdata(session, token->data(), token->size());
}

bool resumed_from(SSL* ssl, const std::string& token) {
  if (SSL_session_reused(ssl) != 1 || token.empty()) return false;
  SSL_SESSION* session = SSL_get0_session(ssl);
  void* data = nullptr;
  size_t size = 0;
  if (!session || SSL_SESSION_get0_ticket_appdata(session, &data, &size) != 1) return false;
  return size == token.size() && CRYPTO_memcmp(data, token.data(), size) == 0;
}

}  // namespace tls_owner
}  // namespace nm
