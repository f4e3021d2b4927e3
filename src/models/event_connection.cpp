#include "models/event_connection.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "net/socket.hpp"
#include "transfer/data_listener.hpp"

namespace nm {
namespace {

using Next = SessionHost::Next;

}  // namespace

EventConnection::EventConnection(EventServer& server, Fd fd)
    : server_(server), loop_(server.loop()), fd_(std::move(fd)), host_(*this, server.context()) {}

EventConnection::~EventConnection() {
  shut();
}

bool EventConnection::open(const Address& peer) {
  set_nodelay(fd_.get());
  set_oob_inline(fd_.get());
  // The host first: from here on peer() names the connection, whatever fails next.
  host_.open(local_address(fd_.get()), peer);
  if (!loop_.watch(fd_.get(), kReadable, this)) return false;
  reading_ = true;
  after();
  return true;
}

void EventConnection::shut() {
  if (closed_) return;
  closed_ = true;
  if (alive_) *alive_ = false;
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
  // Edge-triggered, this event is an edge: a short read may end it (read_control). Not when it
  // also says the peer closed, or on a hang-up (that end of stream would raise no edge again),
  // nor with urgent data pending (a read stops short at its mark, more queued behind it).
  if (events & (kReadable | kHangup)) {
    read_control(!(events & (kPeerClosed | kHangup | kUrgent)));
  }
  after();
}

void EventConnection::read_control(bool short_read_drains) {
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
      // Edge-triggered: a TCP recv that did not fill the buffer emptied the socket's queue (and
      // its backlog), and every byte that arrives later raises a new edge, so the recv that
      // would only say EAGAIN is skipped: one system call less per request (nginx's rule too).
      if (short_read_drains && static_cast<size_t>(n) < EventServer::kScratchSize) return;
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
    // Edge-triggered: input that arrived while reading was off raised no new edge; read it now,
    // to EAGAIN (no edge here to end at a short read).
    if (!resumed || !loop_.edge_triggered()) return;
    read_control(false);
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
  if (!alive_) alive_ = std::make_shared<bool>(true);
  server_.submit_work(std::move(job), [this, alive = alive_] {
    if (!*alive) return;
    host_.work_done();
    after();
  });
}

EventConnection::DataChannel& EventConnection::channel() {
  if (!chan_) chan_ = std::make_unique<DataChannel>(this);
  return *chan_;
}

void EventConnection::release_channel() {
  if (chan_ && !chan_->passive && !chan_->data && !chan_->pending && !chan_->pump) chan_.reset();
}

PassiveResult EventConnection::open_passive(const PassiveRequest& request) {
  DataChannel& c = channel();
  if (c.passive) loop_.unwatch(c.passive.get());
  PassiveResult result;
  c.passive = open_passive_listener(request, &result);
  release_channel();
  return result;
}

void EventConnection::close_passive() {
  if (!chan_ || !chan_->passive) return;
  loop_.unwatch(chan_->passive.get());
  chan_->passive.reset();
  release_channel();
}

void EventConnection::start_transfer(TransferRequest request) {
  using Status = TransferResult::Status;
  DataChannel& c = channel();
  c.pending = std::make_unique<TransferRequest>(std::move(request));
  if (c.pending->active_target) {
    c.data = connect_to(*c.pending->active_target, true);
    if (!c.data || !loop_.watch(c.data.get(), kWritable, &c.data_handler)) {
      c.data.reset();
      finish_transfer({Status::kNoConnection, 0, errno});
      return;
    }
    c.connecting = true;
  } else if (c.passive) {
    c.header = host_.data_header();
    if (!loop_.watch(c.passive.get(), kReadable, &c.passive_handler)) {
      finish_transfer({Status::kNoConnection, 0, errno});
    }
  } else {
    finish_transfer({Status::kNoConnection, 0, 0});
  }
}

void EventConnection::stop_transfer(TransferResult::Status status) {
  finish_transfer({status, chan_ && chan_->pump ? chan_->pump->bytes() : 0, 0});
}

void EventConnection::on_passive_ready(unsigned) {
  DataChannel& c = *chan_;       // its handler is watched only while the channel lives
  if (c.reading_header) return;  // a candidate's header first
  auto admit = [&c](const Address& from) { return c.header->admit(from); };
  Fd data = c.header ? accept_data_connection(c.passive.get(), admit)
                     : accept_data_connection(c.passive.get(), host_.peer());
  if (!data) return;
  c.data = std::move(data);
  if (!loop_.watch(c.data.get(), c.header ? unsigned{kReadable} : 0u, &c.data_handler)) {
    c.data.reset();
    finish_transfer({TransferResult::Status::kNoConnection, 0, errno});
    after();
    return;
  }
  if (!c.header) {
    close_passive();
    start_pump();
    return;
  }
  c.reading_header = true;
  loop_.change(c.passive.get(), 0);
  c.header_timer = loop_.run_after(server_.context().options.proxy_timeout, [this] {
    chan_->header_timer = 0;
    chan_->header->expire();
    drop_candidate();
  });
  // Its header may be in already; an edge-triggered loop would not say so again.
  read_data_header();
}

void EventConnection::read_data_header() {
  using State = DataProxyHeader::State;
  DataChannel& c = *chan_;
  char* buffer = server_.scratch();
  for (;;) {
    ssize_t n = ::recv(c.data.get(), buffer, EventServer::kScratchSize, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    // Until EAGAIN, on either kind of loop: the parser bounds what a header may take.
    auto state = n > 0 ? c.header->feed({buffer, static_cast<size_t>(n)}) : c.header->ended();
    if (state == State::kNeedMore) continue;
    if (state == State::kRefused) {
      drop_candidate();
      return;
    }
    loop_.cancel(c.header_timer);
    c.header_timer = 0;
    c.reading_header = false;
    c.early = c.header->take_rest();
    close_passive();
    start_pump();
    return;
  }
}

void EventConnection::drop_candidate() {
  DataChannel& c = *chan_;
  loop_.cancel(c.header_timer);
  c.header_timer = 0;
  c.reading_header = false;
  loop_.unwatch(c.data.get());
  c.data.reset();
  // Changing the interest re-arms an edge-triggered watch: a connection already waiting is seen.
  loop_.change(c.passive.get(), kReadable);
}

void EventConnection::start_pump() {
  DataChannel& c = *chan_;
  c.pump = std::make_unique<DataPump>(std::move(*c.pending), std::move(c.early));
  c.early.clear();
  c.pending.reset();
  c.interest = c.pump->waits_for_write() ? kWritable : kReadable;
  loop_.change(c.data.get(), c.interest);
  // The socket may be ready already; an edge-triggered loop would not say so again.
  on_data_ready(c.interest);
}

void EventConnection::on_data_ready(unsigned events) {
  DataChannel& c = *chan_;  // its handler is watched only while the channel lives
  if (c.connecting) {
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(c.data.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || (events & kHangup)) {
      finish_transfer({TransferResult::Status::kNoConnection, 0, err});
      after();
      return;
    }
    c.connecting = false;
    start_pump();
    return;
  }
  if (c.reading_header) {
    read_data_header();
    return;
  }
  if (!c.pump) return;
  if (c.throttle_timer != 0) {
    // Watched for nothing while throttled, yet an error or a hang-up is still reported: the peer
    // is gone. Left alone, a level-triggered loop would report it again at once until the timer.
    if (events & kHangup) {
      finish_transfer({TransferResult::Status::kConnectionLost, c.pump->bytes(), 0});
      after();
    }
    return;
  }
  // Level-triggered: a turn (kTurnBudget), so one transfer cannot starve the other connections;
  // edge-triggered loops must go on to EAGAIN, as no new edge would come.
  size_t budget = loop_.edge_triggered() ? SIZE_MAX : kTurnBudget;
  auto outcome = c.pump->step(c.data.get(), budget);
  if (outcome == DataPump::Outcome::kThrottled) {
    host_.data_progress(c.pump->handshaking());  // held back, not stalled
    throttle();
    return;
  }
  if (outcome == DataPump::Outcome::kWouldBlock || outcome == DataPump::Outcome::kBudgetSpent) {
    host_.data_progress(c.pump->handshaking());
    // A TLS handshake or close turns the direction around: wait for exactly what it needs.
    unsigned want = c.pump->waits_for_write() ? kWritable : kReadable;
    if (want != c.interest) {
      c.interest = want;
      loop_.change(c.data.get(), want);
      // Changing the interest re-arms an edge-triggered watch with the current readiness.
    }
    return;
  }
  finish_transfer(c.pump->result(outcome));
  after();
}

void EventConnection::throttle() {
  DataChannel& c = *chan_;
  c.interest = 0;
  loop_.change(c.data.get(), 0);
  c.throttle_timer = loop_.run_after(c.pump->throttle_delay(), [this] {
    DataChannel& c = *chan_;  // the timer is cancelled with the channel
    c.throttle_timer = 0;
    c.interest = c.pump->waits_for_write() ? kWritable : kReadable;
    loop_.change(c.data.get(), c.interest);
    // The socket is most likely ready already; an edge-triggered loop would not say so again.
    on_data_ready(c.interest);
  });
}

void EventConnection::finish_transfer(const TransferResult& result) {
  close_data_channel();
  host_.transfer_finished(result);
}

void EventConnection::close_data_channel() {
  if (!chan_) return;
  DataChannel& c = *chan_;
  if (c.passive) loop_.unwatch(c.passive.get());
  if (c.data) loop_.unwatch(c.data.get());
  loop_.cancel(c.throttle_timer);
  loop_.cancel(c.header_timer);
  chan_.reset();
}

}  // namespace nm
