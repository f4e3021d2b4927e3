#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "net/address.hpp"
#include "net/buffer.hpp"
#include "server/context.hpp"
#include "server/data_proxy_header.hpp"
#include "server/proxy_header.hpp"
#include "session/session.hpp"

namespace nm {

class TlsFilter;

// What a connection does with its session, written once for the three drivers (blocking, event
// loop, io_uring), which keep only their I/O. It owns the session and its output; it never
// touches a descriptor, so unit tests drive it with a scripted session and a fake driver.
// Owned by one driver object and called only from that driver's thread.
//
// Theory of operation. The driver feeds it what the peer sent (received, input_ended), the ends
// of the work it asked for (transfer_finished, delay_elapsed, work_done, data_progress) and the
// time (tick, at deadline()). After each call the host has run the session's requests, in order,
// asking the driver to do the I/O they need (Driver), and appended the session's replies to
// output(). The driver then sends output(), reads the control connection only while
// wants_input() says so, and acts on next():
//   kServe          go on;
//   kCloseWhenSent  the session is over (QUIT, a time-out's 421, the peer's EOF): close once
//                   output() is empty, or at once when tick() gives up on a peer that does not
//                   read its last words within kDrainGrace;
//   kCloseNow       close without sending (the peer left in the middle of a transfer).
// Policy that lives here and nowhere else: the request loop; one transfer at a time; ABOR of a
// running transfer versus of a mere listener; input held during a failed-login delay; the
// high/low-water marks on unsent output; the idle time-out (a running transfer is activity) and
// the data time-out (a transfer that moves nothing); the command time-out (a line must end within
// --command-timeout of its first byte, however slowly its bytes trickle in, so a slowloris peer
// cannot hold a connection or a worker) and the login time-out (from connect to login); the
// connection id; TLS on the control connection (below). Once the session is done, its queued
// requests are not run and a running transfer is stopped: nothing follows its last words.
//
// Drain. When the server drains (SIGTERM) the driver stops listening and calls drain() on every
// host. A session with nothing running (no transfer, no pending work, no login delay) gets its
// last words at once (FTP: 421) and closes as after a time-out; one with a transfer running
// keeps it, and gets the same last words as soon as it has ended and its reply (FTP: 226) is in
// output(). Commands already queued behind the transfer are answered before the 421 (a client
// rarely pipelines past a transfer; --drain-timeout bounds what it could add). The driver returns
// once its last connection has closed, or stops at the drain's timeout as it always stopped.
//
// TLS. After the session's StartTlsRequest (AUTH TLS; its 234 already in output()), or from the
// start on the implicit-TLS listener, the host runs a TlsFilter between the driver and the
// session: received() bytes are records, decrypted before the session sees them; the session's
// replies go to ControlTls::plain and are sealed into output() as records. The drivers see only
// bytes and never know. The handshake must end within --tls-handshake-timeout; a failed one closes
// the connection once its alert is sent; the peer's close_notify is its end of input. A protected
// transfer gets the TlsDataParams (this connection's context and owner token) in its request.
// REIN (EndTlsRequest) ends TLS: its 220 is the last record, then our close_notify; what the
// client sends under TLS before its own close_notify is dropped (as AUTH drops what follows it
// in plaintext), and the bytes after its close_notify are the clear session again.
//
// PROXY protocol (--proxy-protocol). Behind a balancer the connection starts with a header naming
// the client; the host reads it before anything else, so no session exists and nothing is sent
// (no 220: the spec forbids speaking first) until it is whole. A peer outside --proxy-trusted, a
// header that is malformed, oversized or not there, the peer's EOF, or --proxy-timeout passing
// first: the connection closes at once, logged (event=proxy-refused). Then the session opens with
// two addresses (ConnectionInfo: the header's client, and the transport peer, which peer() keeps
// for the drivers' passive data check), --max-per-ip is counted by the client in the
// ServerContext's ClientLimit (a refusal gets the service's refusal line), and the bytes that came
// after the header in the same reads go on to the session, or to the TLS handshake on the
// implicit-TLS listener, whose header comes before its ClientHello.
class SessionHost {
 public:
  using Clock = std::chrono::steady_clock;

  // Past kHighWater bytes of unsent output the connection is not read; below kLowWater it is
  // again, so memory stays bounded under a peer that never reads.
  static constexpr size_t kHighWater = 256 * 1024;
  static constexpr size_t kLowWater = 64 * 1024;
  // A timed-out connection gets this long to take its last words (FTP's 421) before it is cut.
  static constexpr std::chrono::milliseconds kDrainGrace{2000};

  enum class Next { kServe, kCloseWhenSent, kCloseNow };

  // The driver's half: the I/O that requests need. Called from inside SessionHost's methods, on
  // the driver's thread; a driver may report back (transfer_finished and the like) from inside
  // these calls or later.
  class Driver {
   public:
    virtual ~Driver() = default;
    virtual PassiveResult open_passive(const PassiveRequest& request) = 0;
    virtual void close_passive() = 0;
    // Opens the data connection and moves the bytes; ends with transfer_finished().
    virtual void start_transfer(TransferRequest request) = 0;
    // ABOR or a data time-out: the running transfer ends with `status`, now or soon.
    virtual void stop_transfer(TransferResult::Status status) = 0;
    // Calls delay_elapsed() after `duration`.
    virtual void start_delay(std::chrono::milliseconds duration) = 0;
    // Runs `job` where it blocks no other session, then calls work_done().
    virtual void run_work(std::function<void()> job) = 0;
  };

  SessionHost(Driver& driver, const ServerContext& context);
  ~SessionHost();
  SessionHost(const SessionHost&) = delete;
  SessionHost& operator=(const SessionHost&) = delete;

  // Opens the session and runs its greeting. A connection to the implicit-TLS port (`local`)
  // has its TLS handshake before the greeting.
  void open(const Address& local, const Address& peer);

  void received(std::string_view bytes);
  void input_ended();
  void transfer_finished(const TransferResult& result);
  void delay_elapsed();
  void work_done();
  // The transfer moved bytes; `handshaking`: only its TLS handshake did, so the handshake's own
  // deadline still runs.
  void data_progress(bool handshaking = false) {
    last_data_ = Clock::now();
    if (!handshaking) data_handshake_ = false;
  }
  // The server drains: see the theory of operation. Idempotent.
  void drain();
  // When tick() next has something to decide (Clock::time_point::max(): nothing).
  Clock::time_point deadline() const;
  void tick(Clock::time_point now);

  Buffer& output() { return out_; }
  const Buffer& output() const { return out_; }
  // `in_flight`: bytes the driver took out of output() and has not seen sent yet.
  bool wants_input(size_t in_flight = 0);
  Next next() const;

  bool transfer_active() const { return transfer_active_; }
  bool work_pending() const { return working_; }
  uint64_t id() const { return info_.id; }
  // The socket's peer (behind a balancer: the balancer), which data connections must come from.
  const Address& peer() const { return info_.transport_peer; }
  // The client: peer(), or the address the PROXY header named.
  const Address& client() const { return info_.peer; }
  // --proxy-protocol-data: the rule each passive data connection of this session's transfers
  // must pass (its own header naming client()); null when they carry no header and come from
  // peer()'s host (transfer/data_listener.hpp).
  std::unique_ptr<DataProxyHeader> data_header() const;

 private:
  void settle();
  void execute(PassiveRequest& request);
  void execute(TransferRequest& request);
  void execute(AbortRequest& request);
  void execute(ClosePassiveRequest& request);
  void execute(DelayRequest& request);
  void execute(WorkRequest& request);
  void execute(StartTlsRequest& request);
  void execute(EndTlsRequest& request);
  void start_tls();
  // REIN: once the client's close_notify is in, drops the filter and delivers what followed it.
  void end_tls_if_closed();
  // Where the session writes: output() itself, or tls_->plain while TLS is on (and not ending).
  Buffer& session_out() { return tls_ && !tls_ending_ ? tls_->plain : out_; }
  // TLS: runs the filter and moves its records to output(); false once it failed.
  void seal();
  // The session's part of received(): `bytes` is plaintext.
  void deliver(std::string_view bytes);
  void stop_transfer(TransferResult::Status status);
  void expire(Clock::time_point now, const char* event, std::chrono::milliseconds limit);
  // PROXY: the header's bytes; once it is whole, the session opens.
  void read_proxy_header(std::string_view bytes);
  void refuse_proxy(const char* reason);
  // Opens the session for client() (after --max-per-ip by client, when counted here): false when
  // refused, the refusal then in output().
  bool begin_session(bool health_check);
  // Drain: the last words, once nothing runs any more.
  void close_if_drained();
  void last_words_sent_by(Clock::time_point now);

  Driver& driver_;
  const ServerContext& context_;
  // The connection as the session sees it: peer is the client, transport_peer the socket's
  // peer. Declared before session_, which keeps a reference to it.
  ConnectionInfo info_;
  std::unique_ptr<Session> session_;
  Buffer out_;
  // TLS on the control connection, on the heap while it runs: most sessions never start it,
  // and an idle one pays 8 bytes here, not 64.
  struct ControlTls {
    std::unique_ptr<TlsFilter> filter;
    Buffer plain;                               // the session's replies before sealing
    std::shared_ptr<const TlsDataParams> data;  // what protected transfers get; REIN drops it
    Clock::time_point started;
  };
  std::unique_ptr<ControlTls> tls_;
  bool tls_dead_ = false;        // handshake failed or timed out: close once the alert is out
  bool tls_ending_ = false;      // REIN: our close_notify is out, the client's not yet in
  bool data_handshake_ = false;  // a protected transfer has moved no data yet
  // Input that arrived while a delay holds the session's input (on the heap while there is any).
  std::unique_ptr<Buffer> held_;
  std::unique_ptr<ProxyHeaderParser> proxy_;  // while the PROXY header is awaited
  Clock::time_point proxy_until_;
  bool proxy_seen_bytes_ = false;
  bool refused_ = false;                // closed before any session: nothing to send
  std::optional<size_t> client_claim_;  // counted in context_.client_limit
  Clock::time_point last_active_;
  Clock::time_point last_data_;
  Clock::time_point drain_until_;
  Clock::time_point opened_;
  Clock::time_point transfer_started_;
  // When the line now buffered began; max(): no partial line.
  Clock::time_point partial_since_ = Clock::time_point::max();
  bool settling_ = false;
  bool paused_ = false;  // output above the high-water mark
  bool delayed_ = false;
  bool working_ = false;
  bool transfer_active_ = false;
  bool stopping_transfer_ = false;
  bool input_closed_ = false;
  bool abandoned_ = false;  // EOF during a transfer: close now
  bool draining_ = false;   // timed out: last words, then close
  bool drain_expired_ = false;
  bool server_draining_ = false;  // drain(): last words once idle
};

}  // namespace nm
