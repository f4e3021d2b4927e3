#include "uring/server.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <stdexcept>

#include "net/logfmt.hpp"
#include "net/socket.hpp"
#include "uring/connection.hpp"

namespace nm::uring {
namespace {

// Submission queue entries; the completion queue is twice as large, and the kernel keeps
// overflowing completions aside rather than dropping them (IORING_FEAT_NODROP).
constexpr unsigned kRingEntries = 4096;
// The receive pool: 2 MiB, touched only as traffic needs it, shared by every connection.
constexpr unsigned kPoolBuffers = 128;
constexpr size_t kPoolBufferSize = 16 * 1024;
constexpr uint16_t kPoolGroup = 0;
// At shutdown, how long cancelled operations get to report before the ring is torn down.
constexpr std::chrono::seconds kShutdownWait{5};

}  // namespace

Server::Server(const ServerContext& context)
    : ring_(kRingEntries),
      buffers_(ring_, kPoolBuffers, kPoolBufferSize, kPoolGroup),
      context_(context),
      listener_(context.listener.get()),
      admission_(context.options.max_clients, context.options.max_per_ip),
      acceptor_(listener_) {}

Server::~Server() = default;

void Server::run() {
  // Non-blocking for the one synchronous accept the descriptor-exhaustion case needs; io_uring
  // itself waits for readiness either way.
  set_nonblocking(listener_, true);
  io_uring_prep_poll_add(ring_.prepare(stop_op_), context_.stop_fd, POLLIN);
  arm_inbox();
  arm_accept();
  while (!stopping_) {
    ring_.run_once(std::chrono::milliseconds(-1));
    after_batch();
  }
  shut_down();
}

void Server::shut_down() {
  ring_.cancel(accept_op_);
  ring_.cancel(stop_op_);
  ring_.cancel(listener_ready_);
  ring_.cancel(inbox_op_);
  for (auto& [raw, connection] : connections_) connection->close();
  after_batch();
  auto deadline = std::chrono::steady_clock::now() + kShutdownWait;
  while (!connections_.empty() || accept_op_.busy || stop_op_.busy || listener_ready_.busy ||
         inbox_op_.busy) {
    if (std::chrono::steady_clock::now() > deadline) {
      spdlog::warn("event=shutdown-incomplete model=uring connections={}", connections_.size());
      break;
    }
    ring_.run_once(std::chrono::milliseconds(100));
    after_batch();
  }
}

void Server::arm_accept() {
  io_uring_sqe* sqe = ring_.prepare(accept_op_);
  if (multishot_) {
    // One request accepts until cancelled; the peer is asked of each socket, since one shared
    // address buffer would be overwritten by the next accept before its CQE is read.
    io_uring_prep_multishot_accept(sqe, listener_, nullptr, nullptr, SOCK_CLOEXEC);
  } else {
    accept_peer_ = Address();
    *accept_peer_.len_ptr() = accept_peer_.capacity();
    io_uring_prep_accept(sqe, listener_, accept_peer_.sa(), accept_peer_.len_ptr(), SOCK_CLOEXEC);
  }
}

void Server::arm_inbox() {
  io_uring_prep_poll_add(ring_.prepare(inbox_op_), inbox_->fd(), POLLIN);
}

void Server::complete(Operation& op, const io_uring_cqe& cqe) {
  switch (op.kind) {
    case kInbox:
      if (cqe.res == -ECANCELED || stopping_) break;
      inbox_->drain();
      arm_inbox();
      break;
    case kStop:
      if (cqe.res != -ECANCELED) stopping_ = true;
      break;
    case kAccept:
      on_accept(cqe);
      break;
    case kListenerReady:
      if (cqe.res >= 0 && !stopping_) on_listener_ready();
      break;
  }
}

void Server::on_accept(const io_uring_cqe& cqe) {
  int res = cqe.res;
  bool rearm = !(cqe.flags & IORING_CQE_F_MORE);
  if (res >= 0) {
    admit(res, multishot_ ? peer_address(res) : accept_peer_);
  } else if (res == -EINVAL && multishot_) {
    spdlog::warn("event=uring-fallback feature=multishot-accept needs=5.19");
    multishot_ = false;
  } else if (res == -EINVAL) {
    // Not even single-shot accept (before 5.5): retrying would spin on the same answer.
    throw std::runtime_error("io_uring is not available here: this kernel cannot accept with it");
  } else if (is_descriptor_shortage(-res)) {
    // io_uring takes the descriptor before it waits for a client, so this comes back at once
    // even with nobody in the backlog: re-arming now would spin. Wait for a client instead.
    if (rearm && !stopping_ && !listener_ready_.busy) {
      io_uring_prep_poll_add(ring_.prepare(listener_ready_), listener_, POLLIN);
    }
    return;
  } else if (res == -ECANCELED || stopping_) {
    return;
  } else if (!is_transient_accept_error(-res) && res != -EAGAIN) {
    spdlog::error("event=accept-failed error={}", logfmt_value(errno_text(-res)));
  }
  if (rearm && !stopping_) arm_accept();
}

void Server::on_listener_ready() {
  // A client waits. With a descriptor free again it is served; without, the acceptor's spare
  // descriptor lets it be taken and closed (a clean refusal) rather than left in the backlog.
  Address peer;
  int fd = acceptor_.accept(&peer, true);
  if (fd >= 0) admit(fd, peer);
  if (!accept_op_.busy) arm_accept();
}

void Server::admit(int fd, Address peer) {
  if (peer.len() == 0) {
    // Reset before we could ask who it was.
    ::close(fd);
    return;
  }
  if (!admission_.admit(peer)) {
    spdlog::warn("event=refused peer={} reason=limit", peer.to_string());
    refuse_connection(fd, context_.service->refusal());
    return;
  }
  auto connection = std::make_unique<Connection>(*this, Fd(fd), peer);
  auto* raw = connection.get();
  connections_.emplace(raw, std::move(connection));
  try {
    raw->open();
  } catch (const std::exception& e) {
    spdlog::error("event=connection-failed peer={} error={}", peer.to_string(),
                  logfmt_value(e.what()));
    raw->close();
  }
}

void Server::closed(Connection* connection) {
  admission_.release(connection->peer());
  check_later(connection);
}

void Server::check_later(Connection* connection) {
  if (connection->queued()) return;
  connection->set_queued();
  later_.push_back(connection);
}

void Server::after_batch() {
  // A visit may queue the connection again (a retried recv that closes it): loop until quiet.
  while (!later_.empty()) {
    auto batch = std::move(later_);
    later_.clear();
    for (auto* connection : batch) {
      if (connection->after_batch() && !connection->queued()) connections_.erase(connection);
    }
  }
}

}  // namespace nm::uring
