#include "models/event_connection.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <atomic>
#include <variant>

#include "net/socket.hpp"
#include "transfer/data_listener.hpp"

namespace nm {
namespace {

// Past kHighWater bytes of unsent output the connection is not read; below kLowWater it is again.
constexpr size_t kHighWater = 256 * 1024;
constexpr size_t kLowWater = 64 * 1024;
// Level-triggered loops move at most this much per data event, so one transfer cannot starve
// the other connections; edge-triggered ones must go on to EAGAIN.
constexpr size_t kPumpBudget = 1024 * 1024;

std::atomic<uint64_t> g_next_id{1};

}  // namespace

EventConnection::EventConnection(EventServer& server, Fd fd, const Address& peer)
    : server_(server), loop_(server.loop()), fd_(std::move(fd)), peer_(peer) {}

EventConnection::~EventConnection() {
  shut();
}

bool EventConnection::open() {
  set_nodelay(fd_.get());
  if (!loop_.watch(fd_.get(), kReadable, this)) return false;
  ConnectionInfo info{local_address(fd_.get()), peer_, g_next_id++};
  session_ = server_.context().service->open(info);
  last_active_ = Clock::now();
  arm_idle_timer();
  session_->start(out_);
  settle();
  return true;
}

void EventConnection::shut() {
  if (closed_) return;
  closed_ = true;
  close_data_channel();
  loop_.cancel(idle_timer_);
  loop_.cancel(delay_timer_);
  loop_.cancel(data_timer_);
  if (fd_) loop_.unwatch(fd_.get());
  fd_.reset();
}

void EventConnection::close() {
  if (closed_) return;
  shut();
  server_.close(this);
}

void EventConnection::on_ready(unsigned events) {
  if (events & kWritable) flush();
  if (closed_) return;
  if (events & (kReadable | kHangup)) read_control();
  if (closed_) return;
  settle();
}

void EventConnection::read_control() {
  char* buffer = server_.scratch();
  while (!reading_paused_ && !delayed_ && !input_closed_ && !closed_) {
    ssize_t n = ::recv(fd_.get(), buffer, EventServer::kScratchSize, 0);
    if (n > 0) {
      last_active_ = Clock::now();
      session_->receive({buffer, static_cast<size_t>(n)}, out_);
      settle();
      if (out_.size() >= kHighWater) reading_paused_ = true;
      if (!loop_.edge_triggered()) break;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    // EOF or an error such as ECONNRESET: nothing more will come. What is queued still goes
    // out if the peer only half-closed.
    input_closed_ = true;
    if (n < 0 || transfer_active_) {
      close();
      return;
    }
  }
}

void EventConnection::flush() {
  while (!out_.empty()) {
    ssize_t n = ::send(fd_.get(), out_.data(), out_.size(), MSG_NOSIGNAL);
    if (n > 0) {
      out_.consume(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    close();
    return;
  }
  if (reading_paused_ && out_.size() <= kLowWater) {
    reading_paused_ = false;
    // Edge-triggered: data that arrived while paused raised no new edge; read it now.
    if (loop_.edge_triggered()) read_control();
  }
}

void EventConnection::settle() {
  // Re-entrancy guard: read_control() calls settle(), which may be inside settle() already.
  if (settling_ || closed_) return;
  settling_ = true;
  while (!closed_ && !delayed_) {
    auto request = session_->take_request();
    if (!request) break;
    std::visit([this](auto& r) { execute(r); }, *request);
  }
  settling_ = false;
  if (closed_) return;
  flush();
  if (closed_) return;
  bool finished = session_->done() || (input_closed_ && !transfer_active_);
  if (finished && out_.empty()) {
    close();
    return;
  }
  update_interest();
}

void EventConnection::update_interest() {
  unsigned interest = 0;
  if (!reading_paused_ && !delayed_ && !input_closed_) interest |= kReadable;
  if (!out_.empty()) interest |= kWritable;
  loop_.change(fd_.get(), interest);
}

void EventConnection::execute(PassiveRequest& request) {
  if (passive_) loop_.unwatch(passive_.get());
  PassiveResult result;
  passive_ = open_passive_listener(request, &result);
  session_->passive_opened(result, out_);
}

void EventConnection::execute(ClosePassiveRequest&) {
  if (passive_ && !transfer_active_) {
    loop_.unwatch(passive_.get());
    passive_.reset();
  }
}

void EventConnection::execute(AbortRequest&) {
  if (transfer_active_) {
    finish_transfer(TransferResult::Status::kAborted);
  } else {
    close_data_channel();
  }
}

void EventConnection::execute(DelayRequest& request) {
  delayed_ = true;
  delay_timer_ = loop_.run_after(request.duration, [this] {
    delay_timer_ = 0;
    delayed_ = false;
    session_->delay_elapsed(out_);
    settle();
    // Input that arrived during the delay is waiting; level-triggered loops see it anyway.
    if (loop_.edge_triggered() && !closed_) read_control();
  });
}

void EventConnection::execute(TransferRequest& request) {
  if (transfer_active_) {
    // The session sends one transfer at a time; a second is a bug there, not a reason to crash.
    spdlog::error("{}: transfer requested while one is running", peer_.to_string());
    session_->transfer_finished({TransferResult::Status::kNoConnection, 0, 0}, out_);
    return;
  }
  transfer_active_ = true;
  pending_ = std::make_unique<TransferRequest>(std::move(request));
  last_data_progress_ = Clock::now();
  arm_data_timer();
  if (pending_->active_target) {
    data_ = connect_to(*pending_->active_target, true);
    if (!data_ || !loop_.watch(data_.get(), kWritable, &data_handler_)) {
      data_.reset();
      finish_transfer(TransferResult::Status::kNoConnection, errno);
      return;
    }
    connecting_ = true;
  } else if (passive_) {
    if (!loop_.watch(passive_.get(), kReadable, &passive_handler_)) {
      finish_transfer(TransferResult::Status::kNoConnection, errno);
    }
  } else {
    finish_transfer(TransferResult::Status::kNoConnection);
  }
}

void EventConnection::on_passive_ready(unsigned) {
  for (;;) {
    Address from;
    Fd data(accept_connection(passive_.get(), &from, true));
    if (!data) return;
    if (!data_peer_allowed(from, peer_)) {
      spdlog::warn("refused data connection from {} for control peer {}", from.to_string(),
                   peer_.to_string());
      continue;
    }
    loop_.unwatch(passive_.get());
    passive_.reset();
    data_ = std::move(data);
    if (!loop_.watch(data_.get(), 0, &data_handler_)) {
      data_.reset();
      finish_transfer(TransferResult::Status::kNoConnection, errno);
      settle();
      return;
    }
    start_pump();
    return;
  }
}

void EventConnection::start_pump() {
  pump_ = std::make_unique<DataPump>(std::move(*pending_));
  pending_.reset();
  loop_.change(data_.get(), pump_->sending() ? kWritable : kReadable);
  // The socket may be ready already; an edge-triggered loop would not say so again.
  on_data_ready(pump_->sending() ? kWritable : kReadable);
}

void EventConnection::on_data_ready(unsigned events) {
  using Status = TransferResult::Status;
  if (connecting_) {
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(data_.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || (events & kHangup)) {
      finish_transfer(Status::kNoConnection, err);
      settle();
      return;
    }
    connecting_ = false;
    start_pump();
    return;
  }
  if (!pump_) return;
  size_t budget = loop_.edge_triggered() ? SIZE_MAX : kPumpBudget;
  auto outcome = pump_->step(data_.get(), budget);
  if (outcome == DataPump::Outcome::kWouldBlock || outcome == DataPump::Outcome::kBudgetSpent) {
    last_data_progress_ = Clock::now();
    return;
  }
  if (outcome == DataPump::Outcome::kDone) {
    finish_transfer(Status::kOk);
  } else if (outcome == DataPump::Outcome::kNetworkError) {
    finish_transfer(Status::kConnectionLost, pump_->error());
  } else {
    finish_transfer(Status::kFileError, pump_->error());
  }
  settle();
}

void EventConnection::finish_transfer(TransferResult::Status status, int error) {
  TransferResult result{status, pump_ ? pump_->bytes() : 0, error};
  close_data_channel();
  session_->transfer_finished(result, out_);
}

void EventConnection::close_data_channel() {
  if (passive_) {
    loop_.unwatch(passive_.get());
    passive_.reset();
  }
  if (data_) {
    loop_.unwatch(data_.get());
    data_.reset();
  }
  pump_.reset();
  pending_.reset();
  connecting_ = false;
  transfer_active_ = false;
  loop_.cancel(data_timer_);
  data_timer_ = 0;
}

void EventConnection::arm_idle_timer() {
  auto timeout = server_.context().options.idle_timeout;
  if (timeout.count() <= 0) return;
  auto due = last_active_ + timeout - Clock::now();
  auto delay = std::chrono::ceil<std::chrono::milliseconds>(due);
  idle_timer_ =
      loop_.run_after(std::max(delay, std::chrono::milliseconds(0)), [this] { on_idle_timer(); });
}

void EventConnection::on_idle_timer() {
  idle_timer_ = 0;
  auto timeout = server_.context().options.idle_timeout;
  // Activity moved last_active_ on since the timer was set: wait for the rest. A transfer in
  // progress is activity too.
  if (transfer_active_ || Clock::now() - last_active_ < timeout) {
    if (transfer_active_) last_active_ = Clock::now();
    arm_idle_timer();
    return;
  }
  spdlog::info("{}: idle for {} s, closing", peer_.to_string(),
               std::chrono::duration_cast<std::chrono::seconds>(timeout).count());
  session_->timed_out(out_);
  flush();
  close();
}

void EventConnection::arm_data_timer() {
  auto timeout = server_.context().options.data_timeout;
  if (timeout.count() <= 0) return;
  auto due = last_data_progress_ + timeout - Clock::now();
  auto delay = std::chrono::ceil<std::chrono::milliseconds>(due);
  data_timer_ =
      loop_.run_after(std::max(delay, std::chrono::milliseconds(0)), [this] { on_data_timer(); });
}

void EventConnection::on_data_timer() {
  data_timer_ = 0;
  if (!transfer_active_) return;
  if (Clock::now() - last_data_progress_ < server_.context().options.data_timeout) {
    arm_data_timer();
    return;
  }
  finish_transfer(TransferResult::Status::kTimeout);
  settle();
}

// For now inline, as the blocking models do; the work pool replaces this.
void EventConnection::execute(WorkRequest& request) {
  request.job();
  session_->work_done(out_);
}

}  // namespace nm
