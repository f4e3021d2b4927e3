#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "net/buffer.hpp"

namespace nm {

class TlsContext;

// One TLS connection without a socket: OpenSSL over two memory BIOs. The driver feeds it the
// ciphertext the peer sent and sends what cipher() holds; the protocol reads plaintext from
// plain() and hands its own to write(). Blocking, event-loop and io_uring drivers all run this one
// engine, so none of them calls SSL_read on a socket, and unit tests run two of them against each
// other in memory. Owned by one connection; called only from that connection's thread.
//
// Theory of operation. advance() does everything OpenSSL can do with what it has: the handshake
// while it runs, then the plaintext queued by write() (kept until the handshake lets it go), then
// reading what feed() brought, until OpenSSL needs more input. Each call leaves the records to
// send in cipher(); want_read() says whether OpenSSL waits on the peer. There is no WANT_WRITE:
// the memory BIO takes everything, and it is the driver's cipher() buffer that grows, bounded by
// the driver's own high-water marks on output.
class TlsFilter {
 public:
  enum class State {
    kHandshaking,
    kOpen,
    kClosed,  // the peer sent close_notify (and ours has been queued)
    kFailed,  // a protocol or certificate error: error() says which; send cipher(), then close
  };

  // A server end made from `context`'s current certificate; the context outlives the filter.
  static std::unique_ptr<TlsFilter> server(const TlsContext& context);
  // A server end that shares `ctx` (a data connection uses its control connection's, so it
  // resumes that session even after a reload changed the context's certificate).
  static std::unique_ptr<TlsFilter> server(SSL_CTX* ctx);
  static std::unique_ptr<TlsFilter> client(SSL_CTX* ctx, const std::string& host,
                                           SSL_SESSION* resume = nullptr);
  ~TlsFilter();
  TlsFilter(const TlsFilter&) = delete;
  TlsFilter& operator=(const TlsFilter&) = delete;

  // A control connection, before its handshake: the sessions it makes carry a new random token
  // (see tls_owner in tls/context.hpp), which its data connections must show.
  const std::string& mark_owner();
  // A data connection: issues no TLS 1.3 tickets. A ticket the client never reads makes its
  // kernel reset the connection at close, which can cost the end of an upload.
  void no_tickets();
  // The handshake resumed a session of the control connection that holds `token`.
  bool resumed_from(const std::string& token) const;

  // Ciphertext from the peer, in order.
  void feed(std::string_view cipher);
  // Plaintext to send: held until the handshake ends; advance() then makes the records.
  void write(std::string_view plain);
  // Queues our close_notify once the plaintext queued before it has gone.
  void close();
  // Runs the engine as far as it goes; returns the state after.
  State advance();
  // Bulk readers (a data connection): advance() stops decrypting into plain(), and read() hands
  // the plaintext straight into the caller's memory instead, one copy fewer per byte.
  void pull_plaintext() { pull_ = true; }
  // Up to `capacity` bytes of what the peer sent, or 0 when nothing is ready (or it closed).
  size_t read(char* out, size_t capacity);

  // After the peer's close_notify: the bytes that followed it, which are not TLS (REIN's return
  // to a clear control connection). OpenSSL reads records exactly (no read-ahead), so they are
  // still in the input BIO.
  std::string take_unread();

  // Plaintext the peer sent, appended by advance().
  Buffer& plain() { return plain_in_; }
  // Records to send.
  Buffer& cipher() { return cipher_out_; }

  State state() const { return state_; }
  bool handshake_done() const { return state_ != State::kHandshaking; }
  // True once plaintext queued with write() (and a close()) has all become records.
  bool flushed() const { return plain_out_.empty() && (!closing_ || close_sent_); }
  bool close_sent() const { return close_sent_; }
  // The peer's close_notify arrived: the stream ended cleanly (not a truncation).
  bool peer_closed() const { return peer_closed_; }
  // The handshake resumed a session instead of making a new one.
  bool resumed() const;
  // The session the handshake made or resumed (for a client to resume on a data connection).
  SSL_SESSION* session() const;
  const std::string& error() const { return error_; }
  SSL* ssl() const { return ssl_; }

 private:
  explicit TlsFilter(SSL* ssl);
  void drain_cipher();
  bool fail(int ssl_error);

  SSL* ssl_;
  BIO* in_;   // owned by ssl_
  BIO* out_;  // owned by ssl_
  State state_ = State::kHandshaking;
  Buffer plain_in_;
  Buffer plain_out_;
  Buffer cipher_out_;
  bool pull_ = false;
  bool closing_ = false;
  bool close_sent_ = false;
  bool peer_closed_ = false;
  std::string error_;
  std::string owner_token_;
};

}  // namespace nm
