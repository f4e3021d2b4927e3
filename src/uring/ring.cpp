#include "uring/ring.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace nm::uring {

Ring::Ring(unsigned entries) {
  // One thread owns the ring, so the kernel may defer its completion work to the moment that
  // thread waits (6.1+): completions come in batches, with no interrupting the thread mid-batch
  // to run task work. Older kernels refuse the flags; they get a plain ring.
  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  int rc = io_uring_queue_init_params(entries, &ring_, &params);
  if (rc == -EINVAL) {
    params = io_uring_params{};
    rc = io_uring_queue_init_params(entries, &ring_, &params);
  }
  if (rc == -ENOSYS || rc == -EPERM || rc == -EACCES) {
    throw std::runtime_error(std::string("io_uring is not available here: ") + std::strerror(-rc) +
                             " (kernel without io_uring, kernel.io_uring_disabled, or a seccomp "
                             "policy); pick another model, such as epoll");
  }
  if (rc < 0) {
    throw std::runtime_error(std::string("cannot set up io_uring: ") + std::strerror(-rc));
  }
}

Ring::~Ring() {
  io_uring_queue_exit(&ring_);
}

io_uring_sqe* Ring::next_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (sqe == nullptr) {
    // The submission queue is full: hand it to the kernel to make room.
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;
}

io_uring_sqe* Ring::prepare(Operation& op) {
  io_uring_sqe* sqe = next_sqe();
  op.busy = true;
  op.cancelling = false;
  io_uring_sqe_set_data(sqe, &op);
  return sqe;
}

void Ring::cancel(Operation& op) {
  if (!op.busy || op.cancelling) return;
  op.cancelling = true;
  io_uring_sqe* sqe = next_sqe();
  io_uring_prep_cancel(sqe, &op, 0);
  // Nobody waits for the cancel request's own CQE: user_data 0 is dropped by run_once().
  io_uring_sqe_set_data(sqe, nullptr);
}

void Ring::arm_timer(TimerOp& timer, std::chrono::milliseconds delay) {
  auto ms = delay.count() < 0 ? 0 : delay.count();
  timer.ts.tv_sec = ms / 1000;
  timer.ts.tv_nsec = (ms % 1000) * 1000000;
  io_uring_prep_timeout(prepare(timer.op), &timer.ts, 0, 0);
}

bool Ring::run_once(std::chrono::milliseconds timeout) {
  io_uring_cqe* cqe = nullptr;
  int rc;
  if (timeout.count() < 0) {
    rc = io_uring_submit_and_wait(&ring_, 1);
    if (rc >= 0) rc = io_uring_peek_cqe(&ring_, &cqe);
  } else {
    __kernel_timespec ts{};
    ts.tv_sec = timeout.count() / 1000;
    ts.tv_nsec = (timeout.count() % 1000) * 1000000;
    rc = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
  }
  if (rc == -ETIME) return false;
  if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
    throw std::runtime_error(std::string("io_uring wait: ") + std::strerror(-rc));
  }
  // Each CQE is copied and marked seen before its handler runs, so the handler may queue new
  // requests, and even submit, with the completion queue in a consistent state.
  while (io_uring_peek_cqe(&ring_, &cqe) == 0) {
    io_uring_cqe copy = *cqe;
    io_uring_cqe_seen(&ring_, cqe);
    // Before kernel 5.11 liburing waits with a timeout SQE of its own, tagged
    // LIBURING_UDATA_TIMEOUT; like the cancel requests' (0), it belongs to no Operation.
    if (copy.user_data == 0 || copy.user_data == LIBURING_UDATA_TIMEOUT) continue;
    auto* op = static_cast<Operation*>(io_uring_cqe_get_data(&copy));
    if (!(copy.flags & IORING_CQE_F_MORE)) {
      op->busy = false;
      op->cancelling = false;
    }
    op->target->complete(*op, copy);
  }
  return true;
}

}  // namespace nm::uring
