#include "models/event_connection.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "net/socket.hpp"
#include "transfer/data_listener.hpp"

namespace nm {
namespace {

// Level-triggered loops move at most this much per data event, so one transfer cannot starve
// the other connections; edge-triggered ones must go on to EAGAIN.
constexpr size_t kPumpBudget = 1024 * 1024;

using Next = SessionHost::Next;

}  // namespace

EventConnection::EventConnection(EventServer& server, Fd fd, const Address& peer)
    : server_(server),
      loop_(server.loop()),
      fd_(std::move(fd)),
      peer_(peer),
      host_(*this, server.context()) {}

EventConnection::~EventConnection() {
  shut();
}

bool EventConnection::open() {
  set_nodelay(fd_.get());
  set_oob_inline(fd_.get());
  if (!loop_.watch(fd_.get(), kReadable, this)) return false;
  reading_ = true;
  host_.open(local_address(fd_.get()), peer_);
  after();
  return true;
}

void EventConnection::shut() {
  if (closed_) return;
  closed_ = true;
  *alive_ = false;
  close_data_channel();
  loop_.cancel(timer_);
  loop_.cancel(delay_timer_);
  if (fd_) loop_.unwatch(fd_.get());
  fd_.reset();
}

void EventConnection::drain() {
  if (closed_) return;
  host_.drain();
  after();
}

void EventConnection::close() {
  if (closed_) return;
  shut();
  server_.close(this);
}

void EventConnection::on_ready(unsigned events) {
  if (events & kWritable) flush();
  if (closed_) return;
  if ((events & kHangup) && !reading_) {
    // An error or a hang-up both ways (a reset) while input is off (a login delay, a slow
    // reader): nothing can be read or sent any more, and a level-triggered loop would report it
    // again at once until the delay ended, spinning a core.
    close();
    return;
  }
  if (events & (kReadable | kHangup)) read_control();
  after();
}

void EventConnection::read_control() {
  char* buffer = server_.scratch();
  while (!closed_) {
    if (!host_.wants_input()) {
      // Stopped before EAGAIN: an edge-triggered loop must read again when input is wanted.
      reading_ = false;
      return;
    }
    ssize_t n = ::recv(fd_.get(), buffer, EventServer::kScratchSize, 0);
    if (n > 0) {
      host_.received({buffer, static_cast<size_t>(n)});
      if (!loop_.edge_triggered()) return;
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n < 0) {
      close();  // ECONNRESET and the like: nothing can be sent either
      return;
    }
    host_.input_ended();
    return;
  }
}

void EventConnection::flush() {
  Buffer& out = host_.output();
  while (!out.empty()) {
    ssize_t n = ::send(fd_.get(), out.data(), out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      out.consume(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    close();
    return;
  }
}

void EventConnection::after() {
  for (;;) {
    if (closed_) return;
    flush();
    if (closed_) return;
    Next next = host_.next();
    if (next == Next::kCloseNow || (next == Next::kCloseWhenSent && host_.output().empty())) {
      close();
      return;
    }
    bool want = host_.wants_input();
    bool resumed = want && !reading_;
    reading_ = want;
    unsigned interest = want ? unsigned{kReadable} : 0u;
    if (!host_.output().empty()) interest |= kWritable;
    loop_.change(fd_.get(), interest);
    arm_timer();
    // Edge-triggered: input that arrived while reading was off raised no new edge; read it now.
    if (!resumed || !loop_.edge_triggered()) return;
    read_control();
  }
}

void EventConnection::arm_timer() {
  auto due = host_.deadline();
  // A later deadline needs no new timer: the early one finds nothing to do and arms again.
  if (due == SessionHost::Clock::time_point::max() || (timer_ != 0 && timer_due_ <= due)) return;
  loop_.cancel(timer_);
  timer_due_ = due;
  auto delay = std::chrono::ceil<std::chrono::milliseconds>(due - SessionHost::Clock::now());
  timer_ = loop_.run_after(std::max(delay, std::chrono::milliseconds(0)), [this] {
    timer_ = 0;
    host_.tick(SessionHost::Clock::now());
    after();
  });
}

void EventConnection::start_delay(std::chrono::milliseconds duration) {
  delay_timer_ = loop_.run_after(duration, [this] {
    delay_timer_ = 0;
    host_.delay_elapsed();
    after();
  });
}

void EventConnection::run_work(std::function<void()> job) {
  server_.submit_work(std::move(job), [this, alive = alive_] {
    if (!*alive) return;
    host_.work_done();
    after();
  });
}

PassiveResult EventConnection::open_passive(const PassiveRequest& request) {
  if (passive_) loop_.unwatch(passive_.get());
  PassiveResult result;
  passive_ = open_passive_listener(request, &result);
  return result;
}

void EventConnection::close_passive() {
  if (!passive_) return;
  loop_.unwatch(passive_.get());
  passive_.reset();
}

void EventConnection::start_transfer(TransferRequest request) {
  using Status = TransferResult::Status;
  pending_ = std::make_unique<TransferRequest>(std::move(request));
  if (pending_->active_target) {
    data_ = connect_to(*pending_->active_target, true);
    if (!data_ || !loop_.watch(data_.get(), kWritable, &data_handler_)) {
      data_.reset();
      finish_transfer({Status::kNoConnection, 0, errno});
      return;
    }
    connecting_ = true;
  } else if (passive_) {
    data_header_ = host_.data_header();
    if (!loop_.watch(passive_.get(), kReadable, &passive_handler_)) {
      finish_transfer({Status::kNoConnection, 0, errno});
    }
  } else {
    finish_transfer({Status::kNoConnection, 0, 0});
  }
}

void EventConnection::stop_transfer(TransferResult::Status status) {
  finish_transfer({status, pump_ ? pump_->bytes() : 0, 0});
}

void EventConnection::on_passive_ready(unsigned) {
  if (reading_header_) return;  // a candidate's header first
  auto admit = [this](const Address& from) { return data_header_->admit(from); };
  Fd data = data_header_ ? accept_data_connection(passive_.get(), admit)
                         : accept_data_connection(passive_.get(), peer_);
  if (!data) return;
  data_ = std::move(data);
  if (!loop_.watch(data_.get(), data_header_ ? unsigned{kReadable} : 0u, &data_handler_)) {
    data_.reset();
    finish_transfer({TransferResult::Status::kNoConnection, 0, errno});
    after();
    return;
  }
  if (!data_header_) {
    close_passive();
    start_pump();
    return;
  }
  reading_header_ = true;
  loop_.change(passive_.get(), 0);
  header_timer_ = loop_.run_after(server_.context().options.proxy_timeout, [this] {
    header_timer_ = 0;
    data_header_->expire();
    drop_candidate();
  });
  // Its header may be in already; an edge-triggered loop would not say so again.
  read_data_header();
}

void EventConnection::read_data_header() {
  using State = DataProxyHeader::State;
  char* buffer = server_.scratch();
  for (;;) {
    ssize_t n = ::recv(data_.get(), buffer, EventServer::kScratchSize, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    // Until EAGAIN, on either kind of loop: the parser bounds what a header may take.
    auto state =
        n > 0 ? data_header_->feed({buffer, static_cast<size_t>(n)}) : data_header_->ended();
    if (state == State::kNeedMore) continue;
    if (state == State::kRefused) {
      drop_candidate();
      return;
    }
    loop_.cancel(header_timer_);
    header_timer_ = 0;
    reading_header_ = false;
    early_ = data_header_->take_rest();
    close_passive();
    start_pump();
    return;
  }
}

void EventConnection::drop_candidate() {
  loop_.cancel(header_timer_);
  header_timer_ = 0;
  reading_header_ = false;
  loop_.unwatch(data_.get());
  data_.reset();
  // Changing the interest re-arms an edge-triggered watch: a connection already waiting is seen.
  loop_.change(passive_.get(), kReadable);
}

void EventConnection::start_pump() {
  pump_ = std::make_unique<DataPump>(std::move(*pending_), std::move(early_));
  early_.clear();
  pending_.reset();
  data_interest_ = pump_->waits_for_write() ? kWritable : kReadable;
  loop_.change(data_.get(), data_interest_);
  // The socket may be ready already; an edge-triggered loop would not say so again.
  on_data_ready(data_interest_);
}

void EventConnection::on_data_ready(unsigned events) {
  if (connecting_) {
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(data_.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || (events & kHangup)) {
      finish_transfer({TransferResult::Status::kNoConnection, 0, err});
      after();
      return;
    }
    connecting_ = false;
    start_pump();
    return;
  }
  if (reading_header_) {
    read_data_header();
    return;
  }
  if (!pump_) return;
  if (throttle_timer_ != 0) {
    // Watched for nothing while throttled, yet an error or a hang-up is still reported: the peer
    // is gone. Left alone, a level-triggered loop would report it again at once until the timer.
    if (events & kHangup) {
      finish_transfer({TransferResult::Status::kConnectionLost, pump_->bytes(), 0});
      after();
    }
    return;
  }
  size_t budget = loop_.edge_triggered() ? SIZE_MAX : kPumpBudget;
  auto outcome = pump_->step(data_.get(), budget);
  if (outcome == DataPump::Outcome::kThrottled) {
    host_.data_progress(pump_->handshaking());  // held back, not stalled
    throttle();
    return;
  }
  if (outcome == DataPump::Outcome::kWouldBlock || outcome == DataPump::Outcome::kBudgetSpent) {
    host_.data_progress(pump_->handshaking());
    // A TLS handshake or close turns the direction around: wait for exactly what it needs.
    unsigned want = pump_->waits_for_write() ? kWritable : kReadable;
    if (want != data_interest_) {
      data_interest_ = want;
      loop_.change(data_.get(), want);
      // Changing the interest re-arms an edge-triggered watch with the current readiness.
    }
    return;
  }
  finish_transfer(pump_->result(outcome));
  after();
}

void EventConnection::throttle() {
  data_interest_ = 0;
  loop_.change(data_.get(), 0);
  throttle_timer_ = loop_.run_after(pump_->throttle_delay(), [this] {
    throttle_timer_ = 0;
    data_interest_ = pump_->waits_for_write() ? kWritable : kReadable;
    loop_.change(data_.get(), data_interest_);
    // The socket is most likely ready already; an edge-triggered loop would not say so again.
    on_data_ready(data_interest_);
  });
}

void EventConnection::finish_transfer(const TransferResult& result) {
  close_data_channel();
  host_.transfer_finished(result);
}

void EventConnection::close_data_channel() {
  close_passive();
  if (data_) {
    loop_.unwatch(data_.get());
    data_.reset();
  }
  loop_.cancel(throttle_timer_);
  throttle_timer_ = 0;
  loop_.cancel(header_timer_);
  header_timer_ = 0;
  reading_header_ = false;
  data_header_.reset();
  early_.clear();
  pump_.reset();
  pending_.reset();
  connecting_ = false;
}

}  // namespace nm
