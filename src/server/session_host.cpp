#include "server/session_host.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <variant>

namespace nm {
namespace {

// One counter for every driver and thread: ids name sessions in the logs. Forked processes
// count on from the parent's value, so they may repeat across prefork's workers.
std::atomic<uint64_t> g_next_id{1};

}  // namespace

SessionHost::SessionHost(Driver& driver, const ServerContext& context)
    : driver_(driver), context_(context) {}

SessionHost::~SessionHost() = default;

void SessionHost::open(const Address& local, const Address& peer) {
  peer_ = peer;
  id_ = g_next_id++;
  session_ = context_.service->open(ConnectionInfo{local, peer, id_});
  last_active_ = Clock::now();
  opened_ = last_active_;
  session_->start(out_);
  settle();
}

void SessionHost::received(std::string_view bytes) {
  last_active_ = Clock::now();
  if (delayed_) {
    // The driver stops reading during a delay, but bytes already under way still arrive.
    held_.append(bytes);
    return;
  }
  bool had_partial = session_->partial_input();
  session_->receive(bytes, out_);
  if (!session_->partial_input()) {
    partial_since_ = Clock::time_point::max();
  } else if (!had_partial || partial_since_ == Clock::time_point::max() ||
             bytes.find_first_of("\r\n") != std::string_view::npos) {
    // The line now buffered began in these bytes: its clock starts now, not at its last byte.
    partial_since_ = last_active_;
  }
  settle();
}

void SessionHost::input_ended() {
  input_closed_ = true;
  // Nothing more will come. What is queued still goes out if the peer only half-closed, but a
  // peer that leaves in the middle of a transfer has abandoned it.
  if (transfer_active_) abandoned_ = true;
}

void SessionHost::transfer_finished(const TransferResult& result) {
  if (!transfer_active_) return;
  transfer_active_ = false;
  stopping_transfer_ = false;
  last_active_ = Clock::now();
  // A line begun during the transfer gets its whole time from now, as the idle clock does.
  if (partial_since_ != Clock::time_point::max()) partial_since_ = last_active_;
  session_->transfer_finished(result, out_);
  settle();
}

void SessionHost::delay_elapsed() {
  if (!delayed_) return;
  delayed_ = false;
  session_->delay_elapsed(out_);
  if (!held_.empty()) {
    Buffer input = std::move(held_);
    held_ = Buffer();
    session_->receive(input.view(), out_);
  }
  settle();
}

void SessionHost::work_done() {
  if (!working_) return;
  working_ = false;
  session_->work_done(out_);
  settle();
}

SessionHost::Clock::time_point SessionHost::deadline() const {
  auto due = Clock::time_point::max();
  if (draining_) return drain_until_;
  auto idle = context_.options.idle_timeout;
  if (idle.count() > 0 && !transfer_active_) due = last_active_ + idle;
  auto command = context_.options.command_timeout;
  if (command.count() > 0 && !transfer_active_ && partial_since_ != Clock::time_point::max()) {
    due = std::min(due, partial_since_ + command);
  }
  auto login = context_.options.login_timeout;
  if (login.count() > 0 && !session_->done() && !session_->logged_in()) {
    due = std::min(due, opened_ + login);
  }
  auto data = context_.options.data_timeout;
  if (data.count() > 0 && transfer_active_ && !stopping_transfer_) {
    due = std::min(due, last_data_ + data);
  }
  return due;
}

void SessionHost::tick(Clock::time_point now) {
  if (draining_) {
    if (now >= drain_until_) drain_expired_ = true;
    return;
  }
  if (transfer_active_) {
    // A running transfer is activity: the idle clock starts again when it ends, and so does
    // the clock of a line begun before it.
    last_active_ = now;
    if (partial_since_ != Clock::time_point::max()) partial_since_ = now;
    auto data = context_.options.data_timeout;
    if (data.count() > 0 && !stopping_transfer_ && now - last_data_ >= data) {
      stop_transfer(TransferResult::Status::kTimeout);
    }
    return;
  }
  if (session_->done()) return;
  auto login = context_.options.login_timeout;
  if (login.count() > 0 && !session_->logged_in() && now - opened_ >= login) {
    expire(now, "login-timeout", login);
    return;
  }
  auto command = context_.options.command_timeout;
  if (command.count() > 0 && partial_since_ != Clock::time_point::max() &&
      now - partial_since_ >= command) {
    expire(now, "command-timeout", command);
    return;
  }
  auto idle = context_.options.idle_timeout;
  if (idle.count() > 0 && now - last_active_ >= idle) expire(now, "idle-timeout", idle);
}

// Last words (FTP: 421), then close once they are sent or kDrainGrace has passed.
void SessionHost::expire(Clock::time_point now, const char* event,
                         std::chrono::milliseconds limit) {
  spdlog::info("event={} id={} peer={} seconds={}", event, id_, peer_.to_string(),
               std::chrono::duration_cast<std::chrono::seconds>(limit).count());
  session_->timed_out(out_);
  draining_ = true;
  drain_until_ = now + kDrainGrace;
}

bool SessionHost::wants_input(size_t in_flight) {
  size_t unsent = out_.size() + in_flight;
  if (unsent >= kHighWater) {
    paused_ = true;
  } else if (unsent <= kLowWater) {
    paused_ = false;
  }
  return !paused_ && !delayed_ && !input_closed_ && next() == Next::kServe;
}

SessionHost::Next SessionHost::next() const {
  if (abandoned_ || drain_expired_) return Next::kCloseNow;
  if (draining_ || session_->done() || (input_closed_ && !transfer_active_)) {
    return Next::kCloseWhenSent;
  }
  return Next::kServe;
}

void SessionHost::settle() {
  // Re-entrancy guard: a driver may report a request's end from inside the request.
  if (settling_) return;
  settling_ = true;
  // A session that is done has said its last words: what it queued before them is not run.
  while (!delayed_ && !abandoned_ && !session_->done()) {
    auto request = session_->take_request();
    if (!request) break;
    std::visit([this](auto& r) { execute(r); }, *request);
  }
  if (session_->done() && transfer_active_) stop_transfer(TransferResult::Status::kAborted);
  settling_ = false;
}

void SessionHost::execute(PassiveRequest& request) {
  session_->passive_opened(driver_.open_passive(request), out_);
}

void SessionHost::execute(TransferRequest& request) {
  if (transfer_active_) {
    // The session sends one transfer at a time; a second is a bug there, not a reason to crash.
    spdlog::error("event=transfer-overlap id={} peer={}", id_, peer_.to_string());
    session_->transfer_finished({TransferResult::Status::kNoConnection, 0, 0}, out_);
    return;
  }
  transfer_active_ = true;
  last_data_ = Clock::now();
  driver_.start_transfer(std::move(request));
}

void SessionHost::execute(AbortRequest&) {
  if (transfer_active_) {
    stop_transfer(TransferResult::Status::kAborted);
  } else {
    driver_.close_passive();
  }
}

void SessionHost::execute(ClosePassiveRequest&) {
  // A running transfer has taken its listener already; the next PASV replaces the rest.
  if (!transfer_active_) driver_.close_passive();
}

void SessionHost::execute(DelayRequest& request) {
  delayed_ = true;
  driver_.start_delay(request.duration);
}

void SessionHost::execute(WorkRequest& request) {
  working_ = true;
  driver_.run_work(std::move(request.job));
}

void SessionHost::stop_transfer(TransferResult::Status status) {
  if (stopping_transfer_) return;
  stopping_transfer_ = true;
  driver_.stop_transfer(status);
}

}  // namespace nm
