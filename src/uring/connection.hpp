#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "net/address.hpp"
#include "net/buffer.hpp"
#include "net/fd.hpp"
#include "server/session_host.hpp"
#include "uring/ring.hpp"
#include "uring/transfer.hpp"

namespace nm::uring {

class Server;

// One client: its control socket and, for FTP, its data channel; what it does with its session is
// SessionHost's, this class moves the bytes with io_uring. Owned by the Server; ring thread only.
// At most one recv and one send are in flight. The recv is multishot where the kernel has it
// (each arrival completes into a pooled buffer, no re-arming per read). The session appends to
// the host's output at any time, so the send in flight reads from a second buffer, sending_, which
// nothing touches until the send completes; then the two swap. While the host wants no input
// (output past its high-water mark, a login delay) the recv is cancelled or not re-armed.
//
// close() only cancels: the object is freed by the server once no operation of its own or of
// its transfers is in the ring any more.
class Connection final : public Completion, private SessionHost::Driver {
 public:
  Connection(Server& server, Fd fd);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Opens the session for `peer`, sends the greeting and starts reading.
  void open(const Address& peer);
  void close();
  // The server drains: the host decides, this sends what it says and closes when told.
  void drain();
  // Called by the server after a batch of completions: frees finished transfers and retries a
  // recv that found the buffer pool empty. True when closed and gone from the ring.
  bool after_batch();
  void complete(Operation& op, const io_uring_cqe& cqe) override;

  // The socket's peer (what admission counted), once open() has begun.
  const Address& peer() const { return host_.peer(); }
  bool queued() const { return queued_; }
  void set_queued() { queued_ = true; }

 private:
  enum Kind : uint8_t { kRecv, kSend, kTimer, kDelay };

  void on_recv(const io_uring_cqe& cqe);
  void on_send(int res);
  void on_timer(int res);
  void on_delay(int res);
  void arm_recv();
  void send_more();
  // Sends what the host wrote, and decides whether to read or close.
  void settle();
  // Keeps the one timer armed for the host's next deadline.
  void arm_timer();
  size_t unsent() const { return host_.output().size() + sending_.size(); }
  bool quiescent() const;

  // SessionHost::Driver
  PassiveResult open_passive(const PassiveRequest& request) override;
  void close_passive() override { passive_.reset(); }
  void start_transfer(TransferRequest request) override;
  void stop_transfer(TransferResult::Status status) override;
  void start_delay(std::chrono::milliseconds duration) override;
  void run_work(std::function<void()> job) override;
  void on_transfer_done(const TransferResult& result);

  Server& server_;
  Ring& ring_;
  Fd fd_;
  SessionHost host_;
  Buffer sending_;
  std::unique_ptr<char[]> own_buffer_;  // only without a provided-buffer pool

  Operation recv_op_{this, kRecv};
  Operation send_op_{this, kSend};
  TimerOp timer_{{this, kTimer}};
  std::chrono::steady_clock::time_point timer_due_;
  TimerOp delay_timer_{{this, kDelay}};

  Fd passive_;
  std::unique_ptr<Transfer> transfer_;
  std::vector<std::unique_ptr<Transfer>> retired_;  // finished, operations still in the ring

  // False once closed: work finishing on the pool after that finds nobody to tell. Made by the
  // first run_work(): most sessions never hand work to the pool.
  std::shared_ptr<bool> alive_;
  bool closing_ = false;
  bool settling_ = false;
  bool starved_ = false;    // the recv found no buffer in the pool: retry after the batch
  bool multishot_ = false;  // the recv in flight is multishot: it must be cancelled to stop
  bool queued_ = false;     // in the server's after-batch list
};

}  // namespace nm::uring
