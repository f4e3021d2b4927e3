#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "net/address.hpp"
#include "net/buffer.hpp"
#include "net/fd.hpp"
#include "session/session.hpp"
#include "uring/ring.hpp"
#include "uring/transfer.hpp"

namespace nm::uring {

class Server;

// One client: its control socket, its session, its output, and for FTP its data channel.
// At most one recv and one send are in flight. The recv is multishot where the kernel has it
// (each arrival completes into a pooled buffer, no re-arming per read). The session appends to
// out_ at any time, so the send in flight reads from a second buffer, sending_, which nothing
// touches until the send completes; then the two swap. Past kHighWater unsent bytes the recv is
// cancelled (or not re-armed) until the output drains below kLowWater, so memory stays bounded
// under a peer that never reads.
//
// close() only cancels: the object is freed by the server once no operation of its own or of
// its transfers is in the ring any more.
class Connection final : public Completion {
 public:
  Connection(Server& server, Fd fd, const Address& peer);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Opens the session, sends the greeting and starts reading.
  void open();
  void close();
  // Called by the server after a batch of completions: frees finished transfers and retries a
  // recv that found the buffer pool empty. True when closed and gone from the ring.
  bool after_batch();
  void complete(Operation& op, const io_uring_cqe& cqe) override;

  const Address& peer() const { return peer_; }
  bool queued() const { return queued_; }
  void set_queued() { queued_ = true; }

 private:
  enum Kind : uint8_t { kRecv, kSend, kIdle, kDelay };

  void on_recv(const io_uring_cqe& cqe);
  void on_send(int res);
  void on_idle_timer(int res);
  void on_delay(int res);
  void arm_recv();
  void send_more();
  // Runs the session's requests, sends what it wrote, and decides whether to read or close.
  void settle();
  void arm_idle_timer();
  size_t unsent() const { return out_.size() + sending_.size(); }
  bool quiescent() const;

  void execute(PassiveRequest& request);
  void execute(TransferRequest& request);
  void execute(AbortRequest& request);
  void execute(ClosePassiveRequest& request);
  void execute(DelayRequest& request);
  void execute(WorkRequest& request);
  void on_transfer_done(const TransferResult& result);

  Server& server_;
  Ring& ring_;
  Fd fd_;
  Address peer_;
  std::unique_ptr<Session> session_;
  Buffer out_;
  Buffer sending_;
  Buffer held_;  // input that arrived while a DelayRequest holds the session's input
  std::unique_ptr<char[]> own_buffer_;  // only without a provided-buffer pool

  Operation recv_op_{this, kRecv};
  Operation send_op_{this, kSend};
  TimerOp idle_timer_{{this, kIdle}};
  TimerOp delay_timer_{{this, kDelay}};

  Fd passive_;
  std::unique_ptr<Transfer> transfer_;
  std::vector<std::unique_ptr<Transfer>> retired_;  // finished, operations still in the ring

  std::chrono::steady_clock::time_point last_active_;
  bool paused_ = false;        // output above the high-water mark
  bool input_closed_ = false;  // EOF from the peer
  bool delayed_ = false;       // a DelayRequest is running
  bool draining_ = false;      // timed out: last words out, then close
  bool closing_ = false;
  bool settling_ = false;
  bool starved_ = false;    // the recv found no buffer in the pool: retry after the batch
  bool multishot_ = false;  // the recv in flight is multishot: it must be cancelled to stop
  bool queued_ = false;     // in the server's after-batch list
};

}  // namespace nm::uring
