#pragma once

// The contract between a service and a model. A service never touches a socket; a model never
// knows a protocol. A Session is fed the bytes that arrived and appends what to send to `out`.
// For FTP it also asks the model for data-channel work and for work that may block (DataRequest)
// and is told how it ended. Every layer that runs sessions (transfer/, server/, models/, uring/)
// depends on this folder; it depends on net/ alone.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "net/address.hpp"
#include "net/buffer.hpp"
#include "net/fd.hpp"

namespace nm {

struct ConnectionInfo {
  Address local;  // our end of the control connection
  // The client: the socket's peer, or behind a balancer the address its PROXY header names. Logs,
  // failed-login accounting and the PORT / EPRT target check go by it.
  Address peer;
  uint64_t id = 0;
  // It came through the implicit-TLS listener: the handshake came first and every byte the
  // session sees or sends crosses TLS (FTPS on port 990).
  bool implicit_tls = false;
  // The socket's own peer: `peer` itself, or the balancer that sent the PROXY header (passive
  // data connections come from it).
  Address transport_peer{};
  // A PROXY header that names no client (v2 LOCAL, v1 UNKNOWN): the balancer's health check.
  bool health_check = false;
};

// What the host adds to a protected transfer (its definition is the server layer's business:
// the TLS context and the control connection's session to resume). Opaque to sessions.
struct TlsDataParams;

// PASV / EPSV: open a listener for the next data connection, replacing any earlier one.
struct PassiveRequest {
  Address bind;  // host to bind (normally the control connection's local host); port ignored
  uint16_t port_min = 0;  // 0 and 0: any free port
  uint16_t port_max = 0;
};
struct PassiveResult {
  bool ok = false;
  Address bound;  // with the real port
  int error = 0;
};

// The room an upload may still fill: a user's quota. The driver asks before it writes each piece
// received to the file; a refusal ends the transfer as kFileError with EDQUOT (552), and the
// session settles what was taken once the transfer has ended. Made by the session; called on the
// driver's thread, while other sessions of the same user take from the same quota on theirs (or
// in other processes), so an implementation synchronises itself.
class UploadQuota {
 public:
  virtual ~UploadQuota() = default;
  // True, and counted, when `bytes` more may be written.
  virtual bool take(uint64_t bytes) = 0;
};

// RETR / LIST / NLST / MLSD (kSend), STOR / APPE / STOU (kReceive).
// The model opens the data connection (accepts on the passive listener, taking only a connection
// from the control peer's host, or under --proxy-protocol-data one whose own PROXY header names
// the client; or connects to active_target), moves the bytes, closes it, and
// answers with transfer_finished(). The session has already sent the 150 reply.
struct TransferRequest {
  enum class Direction { kSend, kReceive };
  Direction direction = Direction::kSend;
  Fd file;             // kSend: read from `offset` to EOF; kReceive: write at its current offset
  std::string memory;  // kSend without a file: these bytes (a listing)
  uint64_t offset = 0;
  bool ascii = false;  // TYPE A: LF -> CRLF when sending, CRLF -> LF when receiving
  std::optional<Address> active_target;  // PORT / EPRT; nullopt: use the passive listener
  // PROT P: the data connection is TLS, this end the server of its handshake (RFC 4217). The
  // session sets `protect`; the host fills `tls` from the control connection's TLS.
  bool protect = false;
  std::shared_ptr<const TlsDataParams> tls;
  // Bytes a second the data connection may move (a token bucket, transfer/token_bucket.hpp); 0:
  // no limit, and nothing changes for the transfer (sendfile, splice, io_uring as always).
  uint64_t max_rate = 0;
  // kReceive: the quota the bytes written count against; null: none.
  std::shared_ptr<UploadQuota> quota;
};
struct TransferResult {
  enum class Status {
    kOk,
    kAborted,         // an AbortRequest stopped it
    kNoConnection,    // no data connection could be opened (425)
    kConnectionLost,  // the data connection failed midway (426)
    kTimeout,         // the data connection stalled past --data-timeout (426)
    kFileError,       // reading or writing the file failed, `error` says why (451, 452 on ENOSPC)
    kTlsFailed,       // PROT P: the data connection's TLS handshake failed or timed out (522)
    kTlsNotResumed,   // PROT P: it did not resume the control connection's session (522)
  };
  Status status = Status::kOk;
  uint64_t bytes = 0;  // bytes moved on the wire
  int error = 0;
};

// AUTH TLS was accepted and its 234 is in `out`: everything after it, both ways, is TLS on the
// control connection. The session has dropped every byte that came after the AUTH line, so no
// plaintext sent ahead of the handshake can pass for a command sent under TLS (CVE-2011-0411).
struct StartTlsRequest {};
// REIN under AUTH TLS (RFC 4217 section 11: the TLS session is cleared and the control
// connection reverts to clear): the reply already in `out` is the last record; the host then
// sends close_notify, and from the client's close_notify on both directions are plaintext.
struct EndTlsRequest {};

// ABOR: stop the running transfer (it then finishes with kAborted) and drop the passive listener.
struct AbortRequest {};
// PORT / EPRT / REIN: drop the passive listener, if any.
struct ClosePassiveRequest {};
// A failed login: hold this session's input for a while, then call delay_elapsed().
struct DelayRequest {
  std::chrono::milliseconds duration{0};
};

// Work that may block for a while (a password hash, reading a large folder, a file open on slow
// storage). The model runs `job` where it stalls no other session: inline on the blocking
// models, on a small bounded pool of threads under the event loops and io_uring. Then it calls
// work_done() on the session's own thread. `job` may run on another thread, so it must not touch
// the session: it captures what it reads by value and leaves its answer in state it shares with
// the session (a shared_ptr), which the session reads in work_done(). If the connection closes
// first, `job` still runs to its end and its answer is dropped with the shared state.
struct WorkRequest {
  std::function<void()> job;
};

using DataRequest = std::variant<PassiveRequest, TransferRequest, AbortRequest, ClosePassiveRequest,
                                 DelayRequest, WorkRequest, StartTlsRequest, EndTlsRequest>;

class Session {
 public:
  virtual ~Session() = default;

  // Right after accept: the greeting, if the protocol has one.
  virtual void start(Buffer& out) { (void)out; }
  // Bytes from the peer, in order. The session keeps partial lines itself.
  virtual void receive(std::string_view bytes, Buffer& out) = 0;
  // The connection was idle past --idle-timeout; last words before it is closed (FTP: 421).
  virtual void timed_out(Buffer& out) { (void)out; }
  // The server is draining (SIGTERM) and this session has nothing running: last words before it
  // is closed (FTP: 421).
  virtual void shutting_down(Buffer& out) { (void)out; }
  // True once the connection should be closed after `out` is flushed.
  virtual bool done() const = 0;
  // True while part of a line (a command not yet ended) is buffered: --command-timeout runs.
  virtual bool partial_input() const { return false; }
  // False until the peer has logged in, for protocols that have a login: --login-timeout runs.
  virtual bool logged_in() const { return true; }

  // Data-channel work for the model; called after every call above until it returns nullopt.
  virtual std::optional<DataRequest> take_request() { return std::nullopt; }
  virtual void passive_opened(const PassiveResult& result, Buffer& out) {
    (void)result;
    (void)out;
  }
  virtual void transfer_finished(const TransferResult& result, Buffer& out) {
    (void)result;
    (void)out;
  }
  virtual void delay_elapsed(Buffer& out) { (void)out; }
  // The job of the last WorkRequest has run; its answer is in the state it shares.
  virtual void work_done(Buffer& out) { (void)out; }
};

}  // namespace nm
