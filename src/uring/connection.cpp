#include "uring/connection.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "net/socket.hpp"
#include "transfer/data_listener.hpp"
#include "uring/server.hpp"

namespace nm::uring {
namespace {

// Without a buffer pool each connection reads into its own buffer of this size.
constexpr size_t kOwnBufferSize = 16 * 1024;

using Clock = SessionHost::Clock;
using Next = SessionHost::Next;

}  // namespace

Connection::Connection(Server& server, Fd fd)
    : server_(server), ring_(server.ring()), fd_(std::move(fd)), host_(*this, server.context()) {}

Connection::~Connection() = default;

void Connection::open(const Address& peer) {
  set_nodelay(fd_.get());
  set_oob_inline(fd_.get());
  // The host first: from here on peer() names the connection, whatever fails next.
  host_.open(local_address(fd_.get()), peer);
  settle();
}

void Connection::close() {
  if (closing_) return;
  closing_ = true;
  if (alive_) *alive_ = false;
  if (transfer_) transfer_->stop(TransferResult::Status::kAborted);
  passive_.reset();
  ring_.cancel(recv_op_);
  ring_.cancel(send_op_);
  ring_.cancel(timer_.op);
  ring_.cancel(delay_timer_.op);
  server_.closed(this);
}

void Connection::drain() {
  if (closing_) return;
  host_.drain();
  settle();
}

bool Connection::quiescent() const {
  return retired_.empty() && !recv_op_.busy && !send_op_.busy && !timer_.op.busy &&
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
    case kTimer:
      on_timer(cqe.res);
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
    spdlog::info("event=uring-fallback feature=multishot-recv needs=6.0");
    server_.no_multishot_recv();
    settle();
    return;
  }
  if (res == -EINTR || res == -EAGAIN || res == -ECANCELED) {
    // ECANCELED: settle() stopped a multishot recv to pause input; it re-arms when it may.
    settle();
    return;
  }
  if (res < 0) {
    close();  // ECONNRESET and the like: nothing can be sent either
    return;
  }
  if (res == 0) {
    host_.input_ended();
    settle();
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
  host_.received(bytes);
  if (pooled) server_.buffers().give_back(id);
  settle();
}

void Connection::send_more() {
  if (send_op_.busy) return;
  if (sending_.empty()) {
    if (host_.output().empty()) return;
    std::swap(host_.output(), sending_);
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
  // Re-entrancy guard: a request may finish at once and report from inside a host call.
  if (settling_ || closing_) return;
  settling_ = true;
  send_more();
  Next next = host_.next();
  settling_ = false;
  if (next == Next::kCloseNow || (next == Next::kCloseWhenSent && unsent() == 0)) {
    close();
    return;
  }
  bool want_input = host_.wants_input(sending_.size()) && !starved_;
  if (want_input && !recv_op_.busy) {
    arm_recv();
  } else if (!want_input && recv_op_.busy && multishot_) {
    // A multishot recv would go on reading; what arrives before the cancel lands is still
    // taken (the host holds it during a delay), a few pooled buffers at most.
    ring_.cancel(recv_op_);
  }
  arm_timer();
}

void Connection::arm_timer() {
  auto due = host_.deadline();
  if (due == Clock::time_point::max()) return;
  if (timer_.op.busy) {
    // An earlier deadline (a transfer's data time-out, the drain grace) replaces the armed one:
    // cancel it, and its completion arms the new one. A later one waits for the early firing.
    if (due < timer_due_ && !timer_.op.cancelling) ring_.cancel(timer_.op);
    return;
  }
  timer_due_ = due;
  ring_.arm_timer(timer_, std::chrono::ceil<std::chrono::milliseconds>(due - Clock::now()));
}

void Connection::on_timer(int res) {
  if (res != -ECANCELED) host_.tick(Clock::now());
  settle();
}

void Connection::start_delay(std::chrono::milliseconds duration) {
  ring_.arm_timer(delay_timer_, duration);
}

void Connection::on_delay(int res) {
  if (res == -ECANCELED) return;
  host_.delay_elapsed();
  settle();
}

void Connection::run_work(std::function<void()> job) {
  if (!alive_) alive_ = std::make_shared<bool>(true);
  server_.submit_work(std::move(job), [this, alive = alive_] {
    if (!*alive) return;
    host_.work_done();
    settle();
  });
}

PassiveResult Connection::open_passive(const PassiveRequest& request) {
  PassiveResult result;
  passive_ = open_passive_listener(request, &result);
  return result;
}

void Connection::stop_transfer(TransferResult::Status status) {
  if (transfer_) transfer_->stop(status);
}

void Connection::start_transfer(TransferRequest request) {
  // The listener serves this transfer only; PORT mode drops it, as the other models do.
  bool request_active = request.active_target.has_value();
  Fd passive = request_active ? Fd() : std::move(passive_);
  passive_.reset();
  transfer_ = std::make_unique<Transfer>(
      ring_, std::move(request), std::move(passive), host_.peer(),
      server_.context().options.data_timeout,
      [this](const TransferResult& result) { on_transfer_done(result); },
      [this] { server_.check_later(this); },
      [this](bool handshaking) { host_.data_progress(handshaking); });
  if (!request_active) transfer_->expect_proxy_header(host_.data_header());
  transfer_->start();
}

void Connection::on_transfer_done(const TransferResult& result) {
  retired_.push_back(std::move(transfer_));
  server_.check_later(this);
  if (closing_) return;
  host_.transfer_finished(result);
  settle();
}

}  // namespace nm::uring
