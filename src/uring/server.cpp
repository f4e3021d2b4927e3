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
      admission_(context.options.max_clients, context.options.max_per_ip) {
  for (int fd : listeners(context)) {
    listeners_.push_back(std::make_unique<Listener>(
        ring_, fd, [this](int accepted, Address peer) { admit(accepted, peer); }));
  }
}

Server::~Server() = default;

void Server::run() {
  // Non-blocking for the one synchronous accept the descriptor-exhaustion case needs; io_uring
  // itself waits for readiness either way.
  for (int fd : listeners(context_)) set_nonblocking(fd, true);
  io_uring_prep_poll_add(ring_.prepare(stop_op_), context_.stop_fd, POLLIN);
  if (context_.drain_fd >= 0) {
    io_uring_prep_poll_add(ring_.prepare(drain_op_), context_.drain_fd, POLLIN);
  }
  arm_inbox();
  for (auto& listener : listeners_) listener->start();
  while (!stopping_ && !(draining_ && connections_.empty())) {
    ring_.run_once(std::chrono::milliseconds(-1));
    after_batch();
  }
  shut_down();
}

void Server::shut_down() {
  for (auto& listener : listeners_) listener->stop();
  ring_.cancel(stop_op_);
  ring_.cancel(drain_op_);
  ring_.cancel(inbox_op_);
  for (auto& [raw, connection] : connections_) connection->close();
  after_batch();
  auto deadline = std::chrono::steady_clock::now() + kShutdownWait;
  auto listeners_busy = [this] {
    for (auto& listener : listeners_) {
      if (!listener->idle()) return true;
    }
    return false;
  };
  while (!connections_.empty() || listeners_busy() || stop_op_.busy || drain_op_.busy ||
         inbox_op_.busy) {
    if (std::chrono::steady_clock::now() > deadline) {
      spdlog::warn("event=shutdown-incomplete model=uring connections={}", connections_.size());
      break;
    }
    ring_.run_once(std::chrono::milliseconds(100));
    after_batch();
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
    case kDrain:
      if (cqe.res >= 0 && !stopping_) drain();
      break;
  }
}

void Server::drain() {
  draining_ = true;
  // Cancel the accepts first: an accept that completes on a stopped listener is then ignored.
  for (auto& listener : listeners_) listener->stop();
  for (int fd : listeners(context_)) stop_listening(fd);
  spdlog::info("event=drain listeners=closed connections={}", connections_.size());
  for (auto& [raw, connection] : connections_) connection->drain();
}

void Server::admit(int fd, Address peer) {
  if (peer.len() == 0) {
    // Reset before we could ask who it was.
    ::close(fd);
    return;
  }
  if (draining_) {
    // Accepted just before the listener stopped: the balancer sends it elsewhere.
    ::close(fd);
    return;
  }
  if (!admission_.admit(peer)) {
    spdlog::warn("event=refused peer={} reason=limit", peer.to_string());
    refuse_connection(fd, context_.service->refusal());
    return;
  }
  auto connection = std::make_unique<Connection>(*this, Fd(fd));
  auto* raw = connection.get();
  connections_.emplace(raw, std::move(connection));
  try {
    raw->open(peer);
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
