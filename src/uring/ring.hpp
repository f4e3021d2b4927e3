#pragma once

#include <liburing.h>

#include <chrono>
#include <cstdint>

namespace nm::uring {

class Completion;

// One request a Completion may have in the ring. Its address is the SQE's user_data, so it must
// stay where it is while busy. busy holds until the last CQE: a multishot request posts several,
// all but the last flagged IORING_CQE_F_MORE. An owner may be freed only when none of its
// operations is busy, or the kernel would complete into freed memory.
struct Operation {
  Completion* target = nullptr;
  uint8_t kind = 0;
  bool busy = false;
  bool cancelling = false;
};

class Completion {
 public:
  virtual void complete(Operation& op, const io_uring_cqe& cqe) = 0;

 protected:
  ~Completion() = default;
};

// IORING_OP_TIMEOUT reads its timespec at submission, so it lives beside the operation.
struct TimerOp {
  Operation op;
  __kernel_timespec ts{};
};

// The submission and completion queues, and the dispatch of each completion to its operation.
class Ring {
 public:
  // Throws std::runtime_error when io_uring cannot be used here (an old kernel, a kernel with
  // io_uring disabled, a seccomp policy that refuses io_uring_setup).
  explicit Ring(unsigned entries);
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  io_uring* raw() { return &ring_; }
  // An SQE whose completion goes to `op`; the queue is submitted first if it is full.
  io_uring_sqe* prepare(Operation& op);
  // Asks the kernel to cancel `op`; its CQE still arrives (-ECANCELED, or its own result when
  // it had already finished), so the owner waits for it as for any other.
  void cancel(Operation& op);
  void arm_timer(TimerOp& timer, std::chrono::milliseconds delay);
  // Hands queued SQEs to the kernel now. A request takes its file when submitted, so call this
  // before closing a descriptor a queued SQE names, or the number could already mean another
  // file by then.
  void submit() { io_uring_submit(&ring_); }
  // Submits what is queued, waits up to `timeout` (negative: without limit) for a completion,
  // then dispatches every completion available. False when the wait timed out.
  bool run_once(std::chrono::milliseconds timeout);

 private:
  io_uring_sqe* next_sqe();

  io_uring ring_{};
};

}  // namespace nm::uring
