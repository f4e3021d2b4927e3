#include "uring/connection.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <atomic>
#include <variant>

#include "net/socket.hpp"
#include "transfer/data_listener.hpp"
#include "uring/server.hpp"

namespace nm::uring {
namespace {

// The same marks as the epoll models, so every model bounds a slow reader alike.
constexpr size_t kHighWater = 256 * 1024;
constexpr size_t kLowWater = 64 * 1024;
// Without a buffer pool each connection reads into its own buffer of this size.
constexpr size_t kOwnBufferSize = 16 * 1024;
// A timed-out connection gets this long to take its last words (FTP's 421) before it is cut.
constexpr std::chrono::milliseconds kDrainGrace{2000};

std::atomic<uint64_t> g_next_id{1};

using Clock = std::chrono::steady_clock;

}  // namespace

Connection::Connection(Server& server, Fd fd, const Address& peer)
    : server_(server), ring_(server.ring()), fd_(std::move(fd)), peer_(peer) {}

Connection::~Connection() = default;

void Connection::open() {
  set_nodelay(fd_.get());
  ConnectionInfo info{local_address(fd_.get()), peer_, g_next_id++};
  session_ = server_.context().service->open(info);
  last_active_ = Clock::now();
  arm_idle_timer();
  session_->start(out_);
  settle();
}

void Connection::close() {
  if (closing_) return;
  closing_ = true;
  if (transfer_) transfer_->stop(TransferResult::Status::kAborted);
  passive_.reset();
  ring_.cancel(recv_op_);
  ring_.cancel(send_op_);
  ring_.cancel(idle_timer_.op);
  ring_.cancel(delay_timer_.op);
  server_.closed(this);
}

bool Connection::quiescent() const {
  return retired_.empty() && !recv_op_.busy && !send_op_.busy && !idle_timer_.op.busy &&
         !delay_timer_.op.busy;
}

bool Connection::after_batch() {
  queued_ = false;
  std::erase_if(retired_, [](const auto& transfer) { return transfer->idle(); });
  if (starved_ && !closing_) {
    starved_ = false;
    settle();
  }
  return closing_ && quiescent();
}

void Connection::complete(Operation& op, const io_uring_cqe& cqe) {
  if (closing_) {
    if (op.kind == kRecv && (cqe.flags & IORING_CQE_F_BUFFER)) {
      server_.buffers().give_back(static_cast<uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT));
    }
    server_.check_later(this);
    return;
  }
  switch (op.kind) {
    case kRecv:
      on_recv(cqe);
      break;
    case kSend:
      on_send(cqe.res);
      break;
    case kIdle:
      on_idle_timer(cqe.res);
      break;
    case kDelay:
      on_delay(cqe.res);
      break;
  }
}

void Connection::arm_recv() {
  RecvBuffers& buffers = server_.buffers();
  io_uring_sqe* sqe = ring_.prepare(recv_op_);
  multishot_ = buffers.available() && server_.multishot_recv();
  if (buffers.available()) {
    // The kernel picks a pooled buffer when data arrives (a multishot recv, one per arrival).
    if (multishot_) {
      io_uring_prep_recv_multishot(sqe, fd_.get(), nullptr, 0, 0);
    } else {
      io_uring_prep_recv(sqe, fd_.get(), nullptr, buffers.buffer_size(), 0);
    }
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = buffers.group();
  } else {
    if (!own_buffer_) own_buffer_ = std::make_unique<char[]>(kOwnBufferSize);
    io_uring_prep_recv(sqe, fd_.get(), own_buffer_.get(), kOwnBufferSize, 0);
  }
}

void Connection::on_recv(const io_uring_cqe& cqe) {
  int res = cqe.res;
  if (res == -ENOBUFS) {
    // Every pooled buffer was taken in this batch; they are all back once it is handled.
    starved_ = true;
    server_.check_later(this);
    return;
  }
  if (res == -EINVAL && multishot_) {
    // This kernel has no multishot recv (before 6.0): one recv per read from now on.
    spdlog::info("io_uring: no multishot recv here; arming one recv per read");
    server_.no_multishot_recv();
    settle();
    return;
  }
  if (res == -EINTR || res == -EAGAIN || res == -ECANCELED) {
    // ECANCELED: settle() stopped a multishot recv to pause input; it re-arms when it may.
    settle();
    return;
  }
  if (res <= 0) {
    // EOF or an error such as ECONNRESET: nothing more will come. What is queued still goes
    // out if the peer only half-closed.
    input_closed_ = true;
    if (res < 0 || transfer_) {
      close();
    } else {
      settle();
    }
    return;
  }
  std::string_view bytes;
  bool pooled = cqe.flags & IORING_CQE_F_BUFFER;
  auto id = static_cast<uint16_t>(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
  if (pooled) {
    bytes = server_.buffers().view(id, static_cast<size_t>(res));
  } else {
    bytes = {own_buffer_.get(), static_cast<size_t>(res)};
  }
  last_active_ = Clock::now();
  if (delayed_) {
    held_.append(bytes);
  } else {
    session_->receive(bytes, out_);
  }
  if (pooled) server_.buffers().give_back(id);
  settle();
}

void Connection::send_more() {
  if (send_op_.busy) return;
  if (sending_.empty()) {
    if (out_.empty()) return;
    std::swap(out_, sending_);
  }
  io_uring_prep_send(ring_.prepare(send_op_), fd_.get(), sending_.data(), sending_.size(),
                     MSG_NOSIGNAL);
}

void Connection::on_send(int res) {
  if (res == -EINTR || res == -EAGAIN) {
    settle();
    return;
  }
  if (res <= 0) {
    close();
    return;
  }
  // A short send leaves the rest in sending_; settle() sends it next.
  sending_.consume(static_cast<size_t>(res));
  settle();
}

void Connection::settle() {
  // Re-entrancy guard: a request may finish at once and call settle() from inside settle().
  if (settling_ || closing_) return;
  settling_ = true;
  while (!closing_ && !delayed_) {
    auto request = session_->take_request();
    if (!request) break;
    std::visit([this](auto& r) { execute(r); }, *request);
  }
  settling_ = false;
  if (closing_) return;
  send_more();
  bool finished = draining_ || session_->done() || (input_closed_ && !transfer_);
  if (finished && unsent() == 0) {
    close();
    return;
  }
  if (unsent() >= kHighWater) {
    paused_ = true;
  } else if (unsent() <= kLowWater) {
    paused_ = false;
  }
  bool want_input = !finished && !paused_ && !delayed_ && !input_closed_ && !starved_;
  if (want_input && !recv_op_.busy) {
    arm_recv();
  } else if (!want_input && recv_op_.busy && multishot_) {
    // A multishot recv would go on reading; what arrives before the cancel lands is still
    // taken (held_ keeps it during a delay), a few pooled buffers at most.
    ring_.cancel(recv_op_);
  }
}

void Connection::arm_idle_timer() {
  auto timeout = server_.context().options.idle_timeout;
  if (timeout.count() <= 0) return;
  auto due = last_active_ + timeout - Clock::now();
  ring_.arm_timer(idle_timer_, std::chrono::ceil<std::chrono::milliseconds>(due));
}

void Connection::on_idle_timer(int res) {
  if (res == -ECANCELED) return;
  if (draining_) {
    // The peer did not take the last words in time.
    close();
    return;
  }
  auto timeout = server_.context().options.idle_timeout;
  // Activity moved last_active_ on since the timer was set: wait for the rest. A transfer in
  // progress is activity too.
  if (transfer_ || Clock::now() - last_active_ < timeout) {
    if (transfer_) last_active_ = Clock::now();
    arm_idle_timer();
    return;
  }
  spdlog::info("{}: idle for {} s, closing", peer_.to_string(),
               std::chrono::duration_cast<std::chrono::seconds>(timeout).count());
  session_->timed_out(out_);
  draining_ = true;
  ring_.arm_timer(idle_timer_, kDrainGrace);
  settle();
}

void Connection::execute(DelayRequest& request) {
  delayed_ = true;
  ring_.arm_timer(delay_timer_, request.duration);
}

void Connection::on_delay(int res) {
  if (res == -ECANCELED) return;
  delayed_ = false;
  session_->delay_elapsed(out_);
  if (!held_.empty()) {
    Buffer input = std::move(held_);
    held_ = Buffer();
    session_->receive(input.view(), out_);
  }
  settle();
}

void Connection::execute(PassiveRequest& request) {
  PassiveResult result;
  passive_ = open_passive_listener(request, &result);
  session_->passive_opened(result, out_);
}

void Connection::execute(ClosePassiveRequest&) {
  if (!transfer_) passive_.reset();
}

void Connection::execute(AbortRequest&) {
  passive_.reset();
  if (transfer_) transfer_->stop(TransferResult::Status::kAborted);
}

void Connection::execute(TransferRequest& request) {
  if (transfer_) {
    // The session sends one transfer at a time; a second is a bug there, not a reason to crash.
    spdlog::error("{}: transfer requested while one is running", peer_.to_string());
    session_->transfer_finished({TransferResult::Status::kNoConnection, 0, 0}, out_);
    return;
  }
  // The listener serves this transfer only; PORT mode drops it, as the other models do.
  Fd passive = request.active_target ? Fd() : std::move(passive_);
  passive_.reset();
  transfer_ = std::make_unique<Transfer>(
      ring_, std::move(request), std::move(passive), peer_, server_.context().options.data_timeout,
      [this](const TransferResult& result) { on_transfer_done(result); },
      [this] { server_.check_later(this); });
  transfer_->start();
}

void Connection::on_transfer_done(const TransferResult& result) {
  retired_.push_back(std::move(transfer_));
  server_.check_later(this);
  if (closing_) return;
  session_->transfer_finished(result, out_);
  settle();
}

// For now inline, as the blocking models do; the work pool replaces this.
void Connection::execute(WorkRequest& request) {
  request.job();
  session_->work_done(out_);
}

}  // namespace nm::uring
