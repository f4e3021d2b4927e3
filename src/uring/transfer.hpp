#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "net/address.hpp"
#include "net/fd.hpp"
#include "server/data_proxy_header.hpp"
#include "session/session.hpp"
#include "transfer/pump.hpp"
#include "uring/ring.hpp"

namespace nm::uring {

// One FTP transfer done with io_uring operations: it opens the data connection (accepts on the
// passive listener, from the control peer's host only, or under --proxy-protocol-data a
// connection whose own PROXY header names the client; or connects to the PORT target), then
// moves the bytes. A timer stops a transfer that makes no progress. Owned by its Connection and
// called only from the ring's thread.
//
// Every transfer then runs the shared DataPump, the one every model uses: the data socket turns
// non-blocking, the pump takes a bounded step, and the ring polls the socket for the readiness
// the pump waits on (IORING_OP_POLL_ADD), or waits on a timeout (IORING_OP_TIMEOUT) while the
// rate limit's bucket is empty. A binary RETR is then sendfile(2) from the page cache to the
// socket and a binary STOR splice(2) socket -> pipe -> file: no copy through user space; TYPE A
// conversion, listings, the TLS filter, the token bucket, quotas and the fallback for a file
// that takes no splice (an O_APPEND one for APPE: recv + write from then on) are written once.
// The one extra cost, a poll per step when the socket fills or empties, is what epoll pays too.
// It needs no opcode the model did not already use (POLL_ADD is older than the ring's accept),
// so no kernel has to fall back from it. File reads and writes are then synchronous on the
// ring's thread, as on every readiness model (page-cache copies; a cold read waits on the disk).
//
// Why not io_uring's own zero-copy opcodes for binary files: linked IORING_OP_SPLICE (file ->
// pipe -> socket, socket -> pipe -> file) was measured on 6.18 and cost ~1.7x the pump's server
// CPU per byte, 70% of it in io-wq worker threads: the kernel hands every splice request to
// them, two hand-offs per chunk, so the model would leave its one thread. IORING_OP_SEND_ZC was
// not tried: it needs the file read into a registered buffer first (the copy this avoids), and
// to a loopback peer the kernel copies zero-copy pages on delivery anyway. IORING_OP_READ + SEND
// (this class's old path for every file, its own copy of the pump's TYPE A and quota logic)
// copies twice and cost ~1.5x the pump's CPU.
//
// finish() answers at once, but the object must outlive the operations it has in flight (the
// kernel may still write into header_read_): its owner keeps it until idle(), and hears through
// `settled` of each operation that ends after finish(), the moment idle() may have turned true.
class Transfer final : public Completion {
 public:
  using Done = std::function<void(const TransferResult&)>;
  using Settled = std::function<void()>;
  // `handshaking`: only a TLS handshake moved (its own deadline runs).
  using Progress = std::function<void(bool handshaking)>;

  // `moved`, if given, hears of every completion that moved bytes (the owner's data time-out).
  Transfer(Ring& ring, TransferRequest request, Fd passive, const Address& control_peer,
           std::chrono::milliseconds data_timeout, Done done, Settled settled, Progress moved = {});
  ~Transfer();
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  // --proxy-protocol-data: before start(), the rule each passive data connection must pass; its
  // header is read with recvs on the ring (one candidate at a time, the listener left alone
  // meanwhile), cut at --proxy-timeout by a timer of its own.
  void expect_proxy_header(std::unique_ptr<DataProxyHeader> header) { header_ = std::move(header); }
  void start();
  // ABOR, or the control connection going away: ends now; `done` is told `status`.
  void stop(TransferResult::Status status) { finish(status, 0); }
  bool finished() const { return finished_; }
  bool idle() const;
  void complete(Operation& op, const io_uring_cqe& cqe) override;

 private:
  enum Kind : uint8_t { kAccept, kConnect, kNet, kTimer, kThrottle, kHeaderTimer };

  void arm_accept();
  void on_accept(int res);
  void on_connect(int res);
  // --proxy-protocol-data: the candidate in data_ and its header.
  void read_header();
  void on_header_read(int res);
  void on_header_timer();
  void drop_candidate();
  void begin_moving();
  void progress(bool handshaking = false) {
    last_progress_ = std::chrono::steady_clock::now();
    if (moved_) moved_(handshaking);
  }
  // One step of the pump, then a poll for what it waits on (or the rate limit's timer).
  void pump_step();
  void on_polled(int res);
  void arm_timer();
  void on_timer();

  void finish(TransferResult::Status status, int error);

  Ring& ring_;
  TransferRequest request_;
  Fd passive_;
  Fd data_;
  Address control_peer_;
  Address from_;
  std::chrono::milliseconds data_timeout_;
  Done done_;
  Settled settled_;
  Progress moved_;

  Operation accept_op_{this, kAccept};
  Operation connect_op_{this, kConnect};
  Operation net_op_{this, kNet};
  TimerOp timer_{{this, kTimer}};
  TimerOp throttle_{{this, kThrottle}};  // the rate limit's wait
  TimerOp header_timer_{{this, kHeaderTimer}};

  std::unique_ptr<DataProxyHeader> header_;  // null: data connections carry no header
  bool reading_header_ = false;              // data_ is a candidate, its header not yet whole
  bool header_expired_ = false;              // its --proxy-timeout passed: the recv is cancelled
  std::string early_;                        // what followed the header: the stream's first bytes

  std::unique_ptr<char[]> header_read_;  // a candidate's header comes in here
  uint64_t bytes_ = 0;
  bool finished_ = false;
  std::unique_ptr<DataPump> pump_;
  std::chrono::steady_clock::time_point last_progress_;
};

}  // namespace nm::uring
