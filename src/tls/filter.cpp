#include "tls/filter.hpp"

#include <openssl/err.h>

#include <stdexcept>

#include "tls/context.hpp"

namespace nm {
namespace {

// Moves at most this much plaintext per SSL_write: a record is 16 KiB, and a bounded step keeps
// one busy connection from holding its thread.
constexpr size_t kWriteStep = 64 * 1024;
constexpr size_t kReadStep = 16 * 1024;

// The text of the first queued OpenSSL error (or of `ssl_error` when the queue is empty), and
// an empty queue after, so errors never leak from one connection into the next one's report.
std::string describe_error(SSL* ssl, int ssl_error) {
  std::string text;
  unsigned long code = ERR_get_error();
  if (code != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    text = buffer;
  } else if (ssl_error == SSL_ERROR_SYSCALL) {
    text = "unexpected end of stream";
  } else {
    text = "TLS error " + std::to_string(ssl_error);
  }
  long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    text += std::string(" (certificate: ") + X509_verify_cert_error_string(verify) + ")";
  }
  ERR_clear_error();
  return text;
}

}  // namespace

TlsFilter::TlsFilter(SSL* ssl) : ssl_(ssl) {
  if (!ssl_) throw std::runtime_error("SSL_new failed");
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  // An empty memory BIO reports "retry" rather than end of file, so OpenSSL waits for feed().
  BIO_set_mem_eof_return(in_, -1);
  BIO_set_mem_eof_return(out_, -1);
  SSL_set_bio(ssl_, in_, out_);
}

std::unique_ptr<TlsFilter> TlsFilter::server(const TlsContext& context) {
  auto ctx = context.current();
  return server(ctx.get());
}

std::unique_ptr<TlsFilter> TlsFilter::server(SSL_CTX* ctx) {
  std::unique_ptr<TlsFilter> filter(new TlsFilter(SSL_new(ctx)));
  SSL_set_accept_state(filter->ssl_);
  return filter;
}

std::unique_ptr<TlsFilter> TlsFilter::client(SSL_CTX* ctx, const std::string& host,
                                             SSL_SESSION* resume) {
  std::unique_ptr<TlsFilter> filter(new TlsFilter(SSL_new(ctx)));
  SSL_set_connect_state(filter->ssl_);
  if (!host.empty()) {
    SSL_set_tlsext_host_name(filter->ssl_, host.c_str());
    SSL_set1_host(filter->ssl_, host.c_str());
  }
  if (resume) SSL_set_session(filter->ssl_, resume);
  return filter;
}

TlsFilter::~TlsFilter() {
  SSL_free(ssl_);  // frees both BIOs
}

const std::string& TlsFilter::mark_owner() {
  tls_owner::mark(ssl_, owner_token_);
  return owner_token_;
}

void TlsFilter::no_tickets() {
  SSL_set_num_tickets(ssl_, 0);
}

bool TlsFilter::resumed_from(const std::string& token) const {
  return tls_owner::resumed_from(ssl_, token);
}

void TlsFilter::feed(std::string_view cipher) {
  while (!cipher.empty()) {
    int n =
        BIO_write(in_, cipher.data(), static_cast<int>(std::min<size_t>(cipher.size(), 1 << 30)));
    if (n <= 0) return;  // a memory BIO only fails out of memory
    cipher.remove_prefix(static_cast<size_t>(n));
  }
}

void TlsFilter::write(std::string_view plain) {
  if (closing_ || state_ == State::kFailed || state_ == State::kClosed) return;
  // Straight into records when nothing waits before it: a bulk transfer skips one copy.
  while (state_ == State::kOpen && plain_out_.empty() && !plain.empty()) {
    size_t size = std::min(plain.size(), kWriteStep);
    ERR_clear_error();
    int n = SSL_write(ssl_, plain.data(), static_cast<int>(size));
    if (n <= 0) {
      int err = SSL_get_error(ssl_, n);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) fail(err);
      break;
    }
    plain.remove_prefix(static_cast<size_t>(n));
  }
  if (state_ != State::kFailed) plain_out_.append(plain);
}

void TlsFilter::close() {
  closing_ = true;
}

bool TlsFilter::fail(int ssl_error) {
  error_ = describe_error(ssl_, ssl_error);
  state_ = State::kFailed;
  plain_out_.clear();
  return false;
}

TlsFilter::State TlsFilter::advance() {
  if (state_ == State::kFailed) {
    drain_cipher();
    return state_;
  }
  if (state_ == State::kHandshaking) {
    ERR_clear_error();
    int rc = SSL_do_handshake(ssl_);
    if (rc == 1) {
      state_ = State::kOpen;
      if (!owner_token_.empty()) tls_owner::stamp(ssl_);
    } else {
      int err = SSL_get_error(ssl_, rc);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) fail(err);
    }
  }
  // Plaintext queued by write(), in steps, once the handshake lets it go.
  while (state_ == State::kOpen && !plain_out_.empty()) {
    size_t size = std::min(plain_out_.size(), kWriteStep);
    ERR_clear_error();
    int n = SSL_write(ssl_, plain_out_.data(), static_cast<int>(size));
    if (n <= 0) {
      int err = SSL_get_error(ssl_, n);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) break;
      fail(err);
      break;
    }
    plain_out_.consume(static_cast<size_t>(n));
  }
  // What the peer sent: SSL_read until OpenSSL needs more, which also drains SSL_pending.
  while (state_ == State::kOpen && !pull_) {
    // Through the stack, not plain_in_'s own room: a buffer reserved at full size would stay
    // allocated in every idle session.
    char room[kReadStep];
    ERR_clear_error();
    int n = SSL_read(ssl_, room, static_cast<int>(kReadStep));
    if (n > 0) {
      plain_in_.append(room, static_cast<size_t>(n));
      continue;
    }
    int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_ZERO_RETURN) {
      peer_closed_ = true;
      state_ = State::kClosed;
      closing_ = true;
    } else if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      fail(err);
    }
    break;
  }
  if (closing_ && !close_sent_ && plain_out_.empty() && state_ != State::kFailed &&
      state_ != State::kHandshaking) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // queues close_notify; the peer's, if it comes, is seen by SSL_read
    close_sent_ = true;
  }
  drain_cipher();
  return state_;
}

size_t TlsFilter::read(char* out, size_t capacity) {
  if (state_ != State::kOpen || capacity == 0) return 0;
  ERR_clear_error();
  int n = SSL_read(ssl_, out, static_cast<int>(std::min<size_t>(capacity, 1 << 30)));
  if (n > 0) return static_cast<size_t>(n);
  int err = SSL_get_error(ssl_, n);
  if (err == SSL_ERROR_ZERO_RETURN) {
    peer_closed_ = true;
    state_ = State::kClosed;
    closing_ = true;
    advance();  // queues our close_notify in answer
  } else if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
    fail(err);
    drain_cipher();
  }
  return 0;
}

std::string TlsFilter::take_unread() {
  std::string rest(BIO_ctrl_pending(in_), '\0');
  int n = rest.empty() ? 0 : BIO_read(in_, rest.data(), static_cast<int>(rest.size()));
  rest.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return rest;
}

void TlsFilter::drain_cipher() {
  for (;;) {
    size_t pending = BIO_ctrl_pending(out_);
    if (pending == 0) return;
    char* room = cipher_out_.reserve(pending);
    int n = BIO_read(out_, room, static_cast<int>(pending));
    if (n <= 0) return;
    cipher_out_.commit(static_cast<size_t>(n));
  }
}

bool TlsFilter::resumed() const {
  return SSL_session_reused(ssl_) == 1;
}

SSL_SESSION* TlsFilter::session() const {
  return SSL_get0_session(ssl_);
}

}  // namespace nm
