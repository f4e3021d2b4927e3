#include "server/session_host.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <variant>

#include "net/logfmt.hpp"
#include "tls/context.hpp"
#include "tls/data_params.hpp"
#include "tls/filter.hpp"

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
  bool implicit_tls = context_.implicit_tls_port != 0 && local.port() == context_.implicit_tls_port;
  peer_ = peer;
  id_ = g_next_id++;
  session_ = context_.service->open(ConnectionInfo{local, peer, id_, implicit_tls});
  last_active_ = Clock::now();
  opened_ = last_active_;
  if (implicit_tls) start_tls();
  session_->start(session_out());
  settle();
}

void SessionHost::received(std::string_view bytes) {
  last_active_ = Clock::now();
  if (!tls_) {
    deliver(bytes);
    return;
  }
  tls_->feed(bytes);
  seal();
  if (!tls_->plain().empty()) {
    Buffer plain = std::move(tls_->plain());
    tls_->plain() = Buffer();
    deliver(plain.view());
  }
  // close_notify (ours went back in seal()): the peer's clean end of input.
  if (tls_ && tls_->peer_closed()) input_ended();
}

void SessionHost::deliver(std::string_view bytes) {
  if (delayed_) {
    // The driver stops reading during a delay, but bytes already under way still arrive.
    held_.append(bytes);
    return;
  }
  bool had_partial = session_->partial_input();
  session_->receive(bytes, session_out());
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
  session_->transfer_finished(result, session_out());
  settle();
}

void SessionHost::delay_elapsed() {
  if (!delayed_) return;
  delayed_ = false;
  session_->delay_elapsed(session_out());
  if (!held_.empty()) {
    Buffer input = std::move(held_);
    held_ = Buffer();
    session_->receive(input.view(), session_out());
  }
  settle();
}

void SessionHost::work_done() {
  if (!working_) return;
  working_ = false;
  session_->work_done(session_out());
  settle();
}

SessionHost::Clock::time_point SessionHost::deadline() const {
  auto due = Clock::time_point::max();
  if (draining_) return drain_until_;
  auto handshake = context_.options.tls_handshake_timeout;
  if (handshake.count() > 0) {
    if (tls_ && !tls_->handshake_done()) due = tls_started_ + handshake;
    if (transfer_active_ && data_handshake_ && !stopping_transfer_) {
      due = std::min(due, transfer_started_ + handshake);
    }
  }
  auto idle = context_.options.idle_timeout;
  if (idle.count() > 0 && !transfer_active_) due = std::min(due, last_active_ + idle);
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
  auto handshake = context_.options.tls_handshake_timeout;
  if (handshake.count() > 0 && tls_ && !tls_->handshake_done() && now - tls_started_ >= handshake) {
    spdlog::info("event=tls-handshake-timeout id={} peer={}", id_, peer_.to_string());
    tls_dead_ = true;
    draining_ = true;
    drain_until_ = now;  // nothing can be said without TLS: close now
    drain_expired_ = true;
    return;
  }
  if (transfer_active_ && data_handshake_ && !stopping_transfer_ && handshake.count() > 0 &&
      now - transfer_started_ >= handshake) {
    spdlog::info("event=tls-data-handshake-timeout id={} peer={}", id_, peer_.to_string());
    stop_transfer(TransferResult::Status::kTlsFailed);
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
  session_->timed_out(session_out());
  seal();
  last_words_sent_by(now);
}

void SessionHost::last_words_sent_by(Clock::time_point now) {
  draining_ = true;
  drain_until_ = now + kDrainGrace;
}

void SessionHost::drain() {
  server_draining_ = true;
  close_if_drained();
}

void SessionHost::close_if_drained() {
  if (!server_draining_ || draining_ || settling_ || session_->done()) return;
  if (transfer_active_ || working_ || delayed_) return;
  spdlog::info("event=drain-close id={} peer={}", id_, peer_.to_string());
  session_->shutting_down(session_out());
  seal();
  last_words_sent_by(Clock::now());
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
  seal();
  // After a transfer's end and its reply (FTP: 226): the drain's last words follow them.
  close_if_drained();
}

void SessionHost::execute(PassiveRequest& request) {
  session_->passive_opened(driver_.open_passive(request), session_out());
}

void SessionHost::execute(TransferRequest& request) {
  if (transfer_active_) {
    // The session sends one transfer at a time; a second is a bug there, not a reason to crash.
    spdlog::error("event=transfer-overlap id={} peer={}", id_, peer_.to_string());
    session_->transfer_finished({TransferResult::Status::kNoConnection, 0, 0}, session_out());
    return;
  }
  transfer_active_ = true;
  last_data_ = Clock::now();
  transfer_started_ = last_data_;
  data_handshake_ = request.protect && data_tls_;
  if (data_handshake_) request.tls = data_tls_;
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

namespace nm {

void SessionHost::execute(StartTlsRequest&) {
  if (!tls_) start_tls();
}

void SessionHost::start_tls() {
  if (!context_.tls) {
    // The session offered AUTH TLS without a certificate: a configuration bug, not the peer's.
    spdlog::error("event=tls-unavailable id={} peer={}", id_, peer_.to_string());
    tls_dead_ = true;
    draining_ = true;
    drain_until_ = Clock::now() + kDrainGrace;
    return;
  }
  tls_ = TlsFilter::server(*context_.tls);
  auto params = std::make_shared<TlsDataParams>();
  params->owner_token = tls_->mark_owner();
  SSL_CTX* ctx = SSL_get_SSL_CTX(tls_->ssl());
  SSL_CTX_up_ref(ctx);
  params->ctx.reset(ctx, SSL_CTX_free);
  params->require_reuse = context_.options.tls_require_reuse;
  params->session_id = id_;
  params->peer = peer_.to_string();
  data_tls_ = std::move(params);
  tls_started_ = Clock::now();
}

void SessionHost::seal() {
  if (!tls_ || tls_dead_) return;
  bool was_handshaking = !tls_->handshake_done();
  if (!plain_.empty()) {
    tls_->write(plain_.view());
    plain_.clear();
  }
  auto state = tls_->advance();
  Buffer& cipher = tls_->cipher();
  if (!cipher.empty()) {
    if (out_.empty()) {
      std::swap(out_, cipher);
    } else {
      out_.append(cipher.view());
      cipher.clear();
    }
  }
  if (state == TlsFilter::State::kFailed) {
    // The alert (in output() now) is all the peer gets; then the connection closes.
    spdlog::info("event=tls-failed id={} peer={} error={}", id_, peer_.to_string(),
                 logfmt_value(tls_->error()));
    tls_dead_ = true;
    draining_ = true;
    drain_until_ = Clock::now() + kDrainGrace;
  } else if (was_handshaking && tls_->handshake_done()) {
    spdlog::info("event=tls id={} peer={} version={} cipher={} resumed={}", id_, peer_.to_string(),
                 SSL_get_version(tls_->ssl()), SSL_get_cipher_name(tls_->ssl()),
                 tls_->resumed() ? "yes" : "no");
  }
}

}  // namespace nm
