#include "uring/listener.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

#include "net/logfmt.hpp"
#include "net/socket.hpp"

namespace nm::uring {

Listener::Listener(Ring& ring, int fd, Admit admit)
    : ring_(ring), fd_(fd), admit_(std::move(admit)), acceptor_(fd) {}

void Listener::stop() {
  stopping_ = true;
  ring_.cancel(accept_op_);
  ring_.cancel(ready_op_);
}

void Listener::arm_accept() {
  io_uring_sqe* sqe = ring_.prepare(accept_op_);
  if (multishot_) {
    // One request accepts until cancelled; the peer is asked of each socket, since one shared
    // address buffer would be overwritten by the next accept before its CQE is read.
    io_uring_prep_multishot_accept(sqe, fd_, nullptr, nullptr, SOCK_CLOEXEC);
  } else {
    accept_peer_ = Address();
    *accept_peer_.len_ptr() = accept_peer_.capacity();
    io_uring_prep_accept(sqe, fd_, accept_peer_.sa(), accept_peer_.len_ptr(), SOCK_CLOEXEC);
  }
}

void Listener::complete(Operation& op, const io_uring_cqe& cqe) {
  if (op.kind == kAccept) {
    on_accept(cqe);
  } else if (cqe.res >= 0 && !stopping_) {
    on_ready();
  }
}

void Listener::on_accept(const io_uring_cqe& cqe) {
  int res = cqe.res;
  // Stopped (a drain shuts the socket down, which fails the accept with EINVAL): nothing more.
  if (stopping_ && res < 0) return;
  bool rearm = !(cqe.flags & IORING_CQE_F_MORE);
  if (res >= 0) {
    admit_(res, multishot_ ? peer_address(res) : accept_peer_);
  } else if (res == -EINVAL && multishot_) {
    spdlog::warn("event=uring-fallback feature=multishot-accept needs=5.19");
    multishot_ = false;
  } else if (res == -EINVAL) {
    // Not even single-shot accept (before 5.5): retrying would spin on the same answer.
    throw std::runtime_error("io_uring is not available here: this kernel cannot accept with it");
  } else if (is_descriptor_shortage(-res)) {
    // io_uring takes the descriptor before it waits for a client, so this comes back at once
    // even with nobody in the backlog: re-arming now would spin. Wait for a client instead.
    if (rearm && !stopping_ && !ready_op_.busy) {
      io_uring_prep_poll_add(ring_.prepare(ready_op_), fd_, POLLIN);
    }
    return;
  } else if (res == -ECANCELED || stopping_) {
    return;
  } else if (!is_transient_accept_error(-res) && res != -EAGAIN) {
    spdlog::error("event=accept-failed error={}", logfmt_value(errno_text(-res)));
  }
  if (rearm && !stopping_) arm_accept();
}

void Listener::on_ready() {
  // A client waits. With a descriptor free again it is served; without, the acceptor's spare
  // descriptor lets it be taken and closed (a clean refusal) rather than left in the backlog.
  Address peer;
  int fd = acceptor_.accept(&peer, true);
  if (fd >= 0) admit_(fd, peer);
  if (!accept_op_.busy) arm_accept();
}

}  // namespace nm::uring
