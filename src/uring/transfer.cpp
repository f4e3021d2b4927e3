#include "uring/transfer.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>

#include "net/socket.hpp"
#include "transfer/data_listener.hpp"

namespace nm::uring {
namespace {

// A PROXY header's read: v1 is at most 107 bytes and a v2 header's TLVs rarely pass a few
// hundred; the parser takes a longer one in several reads.
constexpr size_t kHeaderRead = 4096;

}  // namespace

using Status = TransferResult::Status;

Transfer::Transfer(Ring& ring, TransferRequest request, Fd passive, const Address& control_peer,
                   std::chrono::milliseconds data_timeout, Done done, Settled settled,
                   Progress moved)
    : ring_(ring),
      request_(std::move(request)),
      passive_(std::move(passive)),
      control_peer_(control_peer),
      data_timeout_(data_timeout),
      done_(std::move(done)),
      settled_(std::move(settled)),
      moved_(std::move(moved)) {}

Transfer::~Transfer() = default;

bool Transfer::idle() const {
  return !accept_op_.busy && !connect_op_.busy && !net_op_.busy && !timer_.op.busy &&
         !throttle_.op.busy && !header_timer_.op.busy;
}

void Transfer::start() {
  progress(request_.tls != nullptr);
  arm_timer();
  if (request_.active_target) {
    const Address& target = *request_.active_target;
    passive_.reset();
    data_.reset(::socket(target.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!data_) {
      finish(Status::kNoConnection, errno);
      return;
    }
    io_uring_prep_connect(ring_.prepare(connect_op_), data_.get(), target.sa(), target.len());
  } else if (passive_) {
    arm_accept();
  } else {
    finish(Status::kNoConnection, 0);
  }
}

void Transfer::complete(Operation& op, const io_uring_cqe& cqe) {
  if (finished_) {
    // A late completion of an operation finish() cancelled; only an accepted socket needs care.
    if (op.kind == kAccept && cqe.res >= 0) ::close(cqe.res);
    // The owner checked idle() when the transfer finished; this may be the last one it waited on.
    if (settled_) settled_();
    return;
  }
  switch (op.kind) {
    case kAccept:
      on_accept(cqe.res);
      break;
    case kConnect:
      on_connect(cqe.res);
      break;
    case kNet:
      if (reading_header_) {
        on_header_read(cqe.res);
        break;
      }
      if (pump_) on_polled(cqe.res);
      break;
    case kTimer:
      on_timer();
      break;
    case kThrottle:
      pump_step();
      break;
    case kHeaderTimer:
      on_header_timer();
      break;
  }
}

void Transfer::arm_accept() {
  from_ = Address();
  *from_.len_ptr() = from_.capacity();
  io_uring_prep_accept(ring_.prepare(accept_op_), passive_.get(), from_.sa(), from_.len_ptr(),
                       SOCK_CLOEXEC);
}

void Transfer::on_accept(int res) {
  if (res < 0) {
    if (is_transient_accept_error(-res) || res == -EAGAIN) {
      arm_accept();
    } else {
      finish(Status::kNoConnection, -res);
    }
    return;
  }
  Fd data(res);
  if (header_ ? !header_->admit(from_) : !data_peer_allowed(from_, control_peer_)) {
    arm_accept();
    return;
  }
  data_ = std::move(data);
  if (header_) {
    reading_header_ = true;
    header_expired_ = false;
    // A timer still pending from an earlier candidate fires first and re-arms for this one.
    if (!header_timer_.op.busy) {
      ring_.arm_timer(header_timer_, std::chrono::ceil<std::chrono::milliseconds>(
                                         header_->deadline() - std::chrono::steady_clock::now()));
    }
    read_header();
    return;
  }
  passive_.reset();
  begin_moving();
}

void Transfer::read_header() {
  if (!header_read_) header_read_ = std::make_unique_for_overwrite<char[]>(kHeaderRead);
  io_uring_prep_recv(ring_.prepare(net_op_), data_.get(), header_read_.get(), kHeaderRead, 0);
}

void Transfer::on_header_read(int res) {
  using State = DataProxyHeader::State;
  State state;
  if (res > 0) {
    state = header_->feed({header_read_.get(), static_cast<size_t>(res)});
    if (state == State::kNeedMore && header_expired_) state = header_->expire();
  } else {
    state = header_expired_ ? header_->expire() : header_->ended();
  }
  if (state == State::kNeedMore) {
    read_header();
    return;
  }
  if (state == State::kRefused) {
    drop_candidate();
    return;
  }
  reading_header_ = false;
  early_ = header_->take_rest();
  passive_.reset();
  begin_moving();
}

void Transfer::on_header_timer() {
  if (!reading_header_ || header_expired_) return;
  auto left = header_->deadline() - std::chrono::steady_clock::now();
  if (left > std::chrono::steady_clock::duration::zero()) {
    ring_.arm_timer(header_timer_, std::chrono::ceil<std::chrono::milliseconds>(left));
    return;
  }
  // The recv in flight ends (-ECANCELED, or with what it got); on_header_read then refuses.
  header_expired_ = true;
  ring_.cancel(net_op_);
}

void Transfer::drop_candidate() {
  reading_header_ = false;
  data_.reset();
  arm_accept();
}

void Transfer::on_connect(int res) {
  if (res < 0) {
    finish(Status::kNoConnection, -res);
    return;
  }
  begin_moving();
}

void Transfer::begin_moving() {
  set_nonblocking(data_.get(), true);
  pump_ = std::make_unique<DataPump>(std::move(request_), std::move(early_));
  early_.clear();
  pump_step();
}

void Transfer::arm_timer() {
  if (data_timeout_.count() <= 0) return;
  auto due = last_progress_ + data_timeout_ - std::chrono::steady_clock::now();
  ring_.arm_timer(timer_, std::chrono::ceil<std::chrono::milliseconds>(due));
}

void Transfer::on_timer() {
  // Progress moved last_progress_ on since the timer was set: wait for the rest.
  if (std::chrono::steady_clock::now() - last_progress_ < data_timeout_) {
    arm_timer();
    return;
  }
  finish(Status::kTimeout, 0);
}

void Transfer::pump_step() {
  // A bounded step, then back to the ring: other connections' completions get their turn.
  auto outcome = pump_->step(data_.get(), kTurnBudget);
  if (outcome == DataPump::Outcome::kThrottled) {
    progress(pump_->handshaking());  // held back by the rate limit, not stalled
    bytes_ = pump_->bytes();
    ring_.arm_timer(throttle_, pump_->throttle_delay());
    return;
  }
  if (outcome != DataPump::Outcome::kWouldBlock && outcome != DataPump::Outcome::kBudgetSpent) {
    auto result = pump_->result(outcome);
    bytes_ = result.bytes;
    finish(result.status, result.error);
    return;
  }
  progress(pump_->handshaking());
  bytes_ = pump_->bytes();
  unsigned events = pump_->waits_for_write() ? POLLOUT : POLLIN;
  io_uring_prep_poll_add(ring_.prepare(net_op_), data_.get(), events);
}

void Transfer::on_polled(int res) {
  if (res < 0) {
    finish(Status::kConnectionLost, -res);
    return;
  }
  pump_step();  // POLLERR / POLLHUP included: the pump's own send or recv says what happened
}

void Transfer::finish(Status status, int error) {
  if (finished_) return;
  finished_ = true;
  ring_.cancel(accept_op_);
  ring_.cancel(connect_op_);
  ring_.cancel(net_op_);
  ring_.cancel(timer_.op);
  ring_.cancel(throttle_.op);
  ring_.cancel(header_timer_.op);
  ring_.submit();
  passive_.reset();
  if (data_) {
    // Cut an interrupted connection at once, so the operations still on it end too. A finished
    // one just closes: the peer reads EOF after the last byte.
    if (status != Status::kOk) ::shutdown(data_.get(), SHUT_RDWR);
    data_.reset();
  }
  // The file is complete (or abandoned) before the session replies: the pump holds it (or, before
  // the data connection, request_ does); a poll in flight holds no buffer of it.
  request_.file.reset();
  pump_.reset();
  // Reading the result before `done_` runs: the owner may retire this object from it.
  TransferResult result{status, bytes_, error};
  auto done = std::move(done_);
  done(result);
}

}  // namespace nm::uring
