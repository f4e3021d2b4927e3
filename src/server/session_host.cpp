#include "server/session_host.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <variant>

#include "net/logfmt.hpp"
#include "server/client_limit.hpp"
#include "session/metrics.hpp"
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

SessionHost::~SessionHost() {
  // The session's last log line names its client: it goes before the claim is given back.
  session_.reset();
  if (client_claim_) context_.client_limit->release(*client_claim_);
}

void SessionHost::open(const Address& local, const Address& peer) {
  info_.implicit_tls =
      context_.implicit_tls_port != 0 && local.port() == context_.implicit_tls_port;
  info_.local = local;
  info_.transport_peer = peer;
  info_.peer = peer;
  info_.id = g_next_id++;
  last_active_ = Clock::now();
  opened_ = last_active_;
  const auto& options = context_.options;
  if (options.proxy_protocol == ServerOptions::ProxyProtocol::kOff) {
    begin_session(false);
    return;
  }
  if (!any_contains(options.proxy_trusted, info_.transport_peer)) {
    refuse_proxy("untrusted");
    return;
  }
  proxy_ = std::make_unique<ProxyHeaderParser>(accepted_proxy_versions(options.proxy_protocol));
  proxy_until_ = opened_ + options.proxy_timeout;
}

std::unique_ptr<DataProxyHeader> SessionHost::data_header() const {
  if (!context_.options.proxy_protocol_data) return nullptr;
  return std::make_unique<DataProxyHeader>(context_.options, info_.peer, info_.id);
}

bool SessionHost::begin_session(bool health_check) {
  // A health check is not a client: it is counted by --max-clients at accept time only, so a
  // balancer checking often never crowds out the clients it forwards from its own address.
  if (context_.client_limit && !health_check) {
    client_claim_ = context_.client_limit->claim(info_.peer);
    if (!client_claim_) {
      count(Metric::kRefusedMaxPerIp);
      spdlog::warn("event=refused id={} peer={} via={} reason=limit", info_.id,
                   info_.peer.to_string(), info_.transport_peer.to_string());
      // On the implicit-TLS listener a plaintext refusal would only garble the handshake.
      if (!info_.implicit_tls) out_.append(context_.service->refusal());
      draining_ = true;
      drain_until_ = Clock::now() + kDrainGrace;
      return false;
    }
  }
  info_.health_check = health_check;
  session_ = context_.service->open(info_);
  if (info_.implicit_tls) start_tls();
  session_->start(session_out());
  settle();
  return true;
}

void SessionHost::read_proxy_header(std::string_view bytes) {
  if (!bytes.empty()) proxy_seen_bytes_ = true;
  auto state = proxy_->feed(bytes);
  if (state == ProxyHeaderParser::State::kNeedMore) return;
  if (state == ProxyHeaderParser::State::kFailed) {
    refuse_proxy(proxy_->error());
    return;
  }
  auto header = proxy_->header();
  std::string rest(proxy_->rest());
  proxy_.reset();
  if (!header.local) info_.peer = header.source;
  // Debug: the session's own lines name the client (and the balancer as via=) already, and a
  // balancer's health checks would otherwise fill the log.
  spdlog::debug("event=proxy id={} peer={} via={} version={} command={}", info_.id,
                info_.peer.to_string(), info_.transport_peer.to_string(), header.version,
                header.local ? "local" : "proxy");
  if (!begin_session(header.local)) return;
  if (!rest.empty()) received(rest);
}

void SessionHost::refuse_proxy(const char* reason) {
  proxy_.reset();
  refused_ = true;
  // A peer that connects and leaves without a byte is a plain TCP health check: not news.
  auto level = std::string_view(reason) == "eof" && !proxy_seen_bytes_ ? spdlog::level::debug
                                                                       : spdlog::level::warn;
  if (level != spdlog::level::debug) count(Metric::kRefusedProxyHeader);
  spdlog::log(level, "event=proxy-refused id={} peer={} reason={}", info_.id,
              info_.transport_peer.to_string(), reason);
}

void SessionHost::received(std::string_view bytes) {
  last_active_ = Clock::now();
  if (proxy_) {
    read_proxy_header(bytes);
    return;
  }
  if (!session_) return;  // refused: nothing the peer says matters now
  if (!tls_) {
    deliver(bytes);
    return;
  }
  tls_->filter->feed(bytes);
  seal();
  if (tls_ending_) {
    end_tls_if_closed();
    return;
  }
  if (!tls_->filter->plain().empty()) {
    Buffer plain = std::move(tls_->filter->plain());
    tls_->filter->plain() = Buffer();
    deliver(plain.view());
  }
  // close_notify (ours went back in seal()): the peer's clean end of input.
  if (tls_ && tls_->filter->peer_closed()) input_ended();
}

void SessionHost::deliver(std::string_view bytes) {
  if (delayed_) {
    // The driver stops reading during a delay, but bytes already under way still arrive.
    if (!held_) held_ = std::make_unique<Buffer>();
    held_->append(bytes);
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
  if (proxy_) refuse_proxy("eof");
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
  if (held_) {
    auto input = std::move(held_);
    session_->receive(input->view(), session_out());
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
  if (proxy_) return proxy_until_;
  if (!session_) return due;
  auto handshake = context_.options.tls_handshake_timeout;
  if (handshake.count() > 0) {
    if (tls_ && !tls_->filter->handshake_done()) due = tls_->started + handshake;
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
  if (proxy_) {
    if (now >= proxy_until_) refuse_proxy("timeout");
    return;
  }
  if (!session_) return;
  auto handshake = context_.options.tls_handshake_timeout;
  if (handshake.count() > 0 && tls_ && !tls_->filter->handshake_done() &&
      now - tls_->started >= handshake) {
    count(Metric::kTlsHandshakesControlFailed);
    spdlog::info("event=tls-handshake-timeout id={} peer={}", info_.id, info_.peer.to_string());
    tls_dead_ = true;
    draining_ = true;
    drain_until_ = now;  // nothing can be said without TLS: close now
    drain_expired_ = true;
    return;
  }
  if (transfer_active_ && data_handshake_ && !stopping_transfer_ && handshake.count() > 0 &&
      now - transfer_started_ >= handshake) {
    count(Metric::kTlsHandshakesDataFailed);
    spdlog::info("event=tls-data-handshake-timeout id={} peer={}", info_.id,
                 info_.peer.to_string());
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
  spdlog::info("event={} id={} peer={} seconds={}", event, info_.id, info_.peer.to_string(),
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
  if (!server_draining_ || draining_ || settling_) return;
  if (!session_) {
    // Still waiting for the PROXY header: no session to say anything, so close now.
    draining_ = true;
    drain_until_ = Clock::now();
    drain_expired_ = true;
    return;
  }
  if (session_->done() || transfer_active_ || working_ || delayed_) return;
  spdlog::info("event=drain-close id={} peer={}", info_.id, info_.peer.to_string());
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
  if (abandoned_ || drain_expired_ || refused_) return Next::kCloseNow;
  if (draining_) return Next::kCloseWhenSent;
  if (!session_) return Next::kServe;  // the PROXY header is still awaited
  if (session_->done() || (input_closed_ && !transfer_active_)) {
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
    spdlog::error("event=transfer-overlap id={} peer={}", info_.id, info_.peer.to_string());
    session_->transfer_finished({TransferResult::Status::kNoConnection, 0, 0}, session_out());
    return;
  }
  transfer_active_ = true;
  last_data_ = Clock::now();
  transfer_started_ = last_data_;
  data_handshake_ = request.protect && tls_ && tls_->data;
  if (data_handshake_) request.tls = tls_->data;
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

void SessionHost::execute(EndTlsRequest&) {
  if (!tls_ || tls_dead_ || tls_ending_) return;
  // The reply before this request is the last record; what the session says from now on is
  // clear, so it must not overtake that record: seal it now, close_notify after it.
  if (!tls_->plain.empty()) {
    tls_->filter->write(tls_->plain.view());
    tls_->plain.clear();
  }
  tls_->filter->close();
  seal();
  tls_ending_ = true;
  tls_->data.reset();
}

void SessionHost::end_tls_if_closed() {
  // Under TLS, after the 220 and before the client's close_notify, nothing counts.
  tls_->filter->plain().clear();
  if (tls_dead_ || !tls_->filter->peer_closed()) return;
  std::string rest = tls_->filter->take_unread();
  spdlog::info("event=tls-ended id={} peer={}", info_.id, info_.peer.to_string());
  tls_.reset();
  tls_ending_ = false;
  if (!rest.empty()) deliver(rest);
}

void SessionHost::start_tls() {
  if (!context_.tls) {
    // The session offered AUTH TLS without a certificate: a configuration bug, not the peer's.
    spdlog::error("event=tls-unavailable id={} peer={}", info_.id, info_.peer.to_string());
    tls_dead_ = true;
    draining_ = true;
    drain_until_ = Clock::now() + kDrainGrace;
    return;
  }
  auto filter = TlsFilter::server(*context_.tls);
  tls_ = std::make_unique<ControlTls>();
  tls_->filter = std::move(filter);
  auto params = std::make_shared<TlsDataParams>();
  params->owner_token = tls_->filter->mark_owner();
  SSL_CTX* ctx = SSL_get_SSL_CTX(tls_->filter->ssl());
  SSL_CTX_up_ref(ctx);
  params->ctx.reset(ctx, SSL_CTX_free);
  params->require_reuse = context_.options.tls_require_reuse;
  params->session_id = info_.id;
  params->peer = info_.peer.to_string();
  tls_->data = std::move(params);
  tls_->started = Clock::now();
}

void SessionHost::seal() {
  if (!tls_ || tls_dead_) return;
  bool was_handshaking = !tls_->filter->handshake_done();
  if (!tls_->plain.empty()) {
    tls_->filter->write(tls_->plain.view());
    tls_->plain.clear();
  }
  auto state = tls_->filter->advance();
  Buffer& cipher = tls_->filter->cipher();
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
    if (was_handshaking) count(Metric::kTlsHandshakesControlFailed);
    spdlog::info("event=tls-failed id={} peer={} error={}", info_.id, info_.peer.to_string(),
                 logfmt_value(tls_->filter->error()));
    tls_dead_ = true;
    draining_ = true;
    drain_until_ = Clock::now() + kDrainGrace;
  } else if (was_handshaking && tls_->filter->handshake_done()) {
    count(Metric::kTlsHandshakesControlOk);
    spdlog::info("event=tls id={} peer={} version={} cipher={} resumed={}", info_.id,
                 info_.peer.to_string(), SSL_get_version(tls_->filter->ssl()),
                 SSL_get_cipher_name(tls_->filter->ssl()), tls_->filter->resumed() ? "yes" : "no");
  }
}

}  // namespace nm
