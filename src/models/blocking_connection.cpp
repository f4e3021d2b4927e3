#include "models/blocking_connection.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "net/logfmt.hpp"
#include "net/socket.hpp"
#include "server/session_host.hpp"
#include "transfer/data_listener.hpp"
#include "transfer/pump.hpp"

namespace nm {
namespace {

using std::chrono::milliseconds;
using Clock = SessionHost::Clock;
using Next = SessionHost::Next;

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kPumpBudget = 4 * 1024 * 1024;

// Milliseconds until `due` for poll(2): -1 for never, 0 once it has passed.
int poll_timeout(Clock::time_point due) {
  if (due == Clock::time_point::max()) return -1;
  auto left = std::chrono::ceil<milliseconds>(due - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, INT32_MAX));
}

// One connection served to its end by one thread with blocking waits (poll). The request the
// session makes runs inline: a transfer runs inside start_transfer(), watching the control
// connection meanwhile so that ABOR is heard, a delay is a poll on the stop pipe, work is a call.
// Owned by the thread that serves it.
class BlockingConnection final : private SessionHost::Driver {
 public:
  BlockingConnection(Fd fd, const Address& peer, const ServerContext& context)
      : fd_(std::move(fd)), context_(context), host_(*this, context) {
    set_nonblocking(fd_.get(), true);
    set_nodelay(fd_.get());
    set_oob_inline(fd_.get());
    host_.open(local_address(fd_.get()), peer);
  }

  void run() {
    while (!stopped_ && !closed_) {
      run_pending_transfer();
      if (!flush()) return;
      Next next = host_.next();
      if (next == Next::kCloseNow || next == Next::kCloseWhenSent) return;
      int ready = wait_for(fd_.get(), POLLIN, host_.deadline());
      if (ready == kStop) return;
      if (ready == kTimeout) {
        host_.tick(Clock::now());
        continue;
      }
      if (!feed_control()) return;
    }
  }

 private:
  enum { kReady, kTimeout, kStop, kControl };

  // Waits until `due` for `events` on fd, watching the stop pipe, the drain pipe until it was
  // seen (and, during a transfer, the control connection) too. `immediate`: just look. A drain
  // is handled here, wherever this thread waits: the listeners stop (for iterative, whose one
  // thread is here while it serves), the host is told, and the caller sees a kTimeout, after
  // which it asks the host what next.
  int wait_for(int fd, short events, Clock::time_point due, bool watch_control = false,
               bool immediate = false) {
    for (;;) {
      pollfd fds[4] = {{fd, events, 0},
                       {context_.stop_fd, POLLIN, 0},
                       {drain_seen_ ? -1 : context_.drain_fd, POLLIN, 0},
                       {fd_.get(), POLLIN, 0}};
      int n = ::poll(fds, watch_control ? 4 : 3, immediate ? 0 : poll_timeout(due));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return kStop;
      if (n == 0) return kTimeout;
      if (fds[1].revents) {
        stopped_ = true;
        return kStop;
      }
      if (fds[2].revents) {
        drain_seen_ = true;
        stop_listening(context_);
        host_.drain();
        return kTimeout;
      }
      // Control first: a transfer whose socket is always ready must still hear ABOR.
      if (watch_control && fds[3].revents) return kControl;
      return kReady;
    }
  }

  // Reads what the control connection has and hands it to the host; false when it is gone.
  bool feed_control() {
    char buffer[kReadChunk];
    ssize_t n = ::recv(fd_.get(), buffer, sizeof(buffer), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n < 0) return false;
    if (n == 0) {
      host_.input_ended();
      return host_.next() != Next::kCloseNow;
    }
    host_.received({buffer, static_cast<size_t>(n)});
    return true;
  }

  // Sends everything the host wrote; false when the peer is gone or does not read in time (the
  // idle time-out, or the drain grace for last words).
  bool flush() {
    Buffer& out = host_.output();
    while (!out.empty()) {
      ssize_t n = ::send(fd_.get(), out.data(), out.size(), MSG_NOSIGNAL);
      if (n > 0) {
        out.consume(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        int ready = wait_for(fd_.get(), POLLOUT, host_.deadline());
        if (ready == kStop) return false;
        if (ready == kTimeout) {
          host_.tick(Clock::now());
          if (host_.next() == Next::kCloseNow) return false;
        }
        continue;
      }
      return false;
    }
    return true;
  }

  // SessionHost::Driver
  PassiveResult open_passive(const PassiveRequest& request) override {
    PassiveResult result;
    passive_ = open_passive_listener(request, &result);
    return result;
  }
  void close_passive() override { passive_.reset(); }
  void stop_transfer(TransferResult::Status status) override { stop_status_ = status; }
  void start_delay(milliseconds duration) override {
    if (!flush()) return;
    pollfd stop{context_.stop_fd, POLLIN, 0};
    if (::poll(&stop, 1, static_cast<int>(duration.count())) > 0) {
      stopped_ = true;
      return;
    }
    host_.delay_elapsed();
  }
  void run_work(std::function<void()> job) override {
    job();
    host_.work_done();
  }
  // The transfer runs from run(), once the host call that asked for it has returned: the host
  // must be free to hear the control connection (ABOR) while the transfer blocks this thread.
  void start_transfer(TransferRequest request) override { pending_ = std::move(request); }

  void run_pending_transfer() {
    while (pending_ && !stopped_) {
      TransferRequest request = std::move(*pending_);
      pending_.reset();
      stop_status_.reset();
      // The 150 goes out before the data connection is waited for.
      TransferResult result{TransferResult::Status::kNoConnection, 0, 0};
      if (flush()) result = transfer(std::move(request));
      passive_.reset();
      host_.transfer_finished(result);
    }
  }

  // Control input that arrives while a transfer runs (ABOR, STAT); false when the transfer must
  // end: aborted, or the control connection gone.
  bool control_during_transfer() {
    stop_status_.reset();
    if (!feed_control() || !flush()) {
      stop_status_ = TransferResult::Status::kAborted;
      closed_ = true;
    }
    return !stop_status_;
  }

  // The data time-out is the host's: a wait that times out asks it (tick), and it stops the
  // transfer through stop_transfer() when the transfer has stalled too long.
  bool stalled(int ready) {
    if (ready == kTimeout) host_.tick(Clock::now());
    return ready == kStop || stop_status_.has_value();
  }

  Fd open_data_connection(const TransferRequest& request) {
    if (request.active_target) {
      Fd data = connect_to(*request.active_target, true);
      if (!data) return Fd();
      int ready = kTimeout;
      while (ready == kTimeout) {
        ready = wait_for(data.get(), POLLOUT, host_.deadline());
        if (stalled(ready)) return Fd();
      }
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(data.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      return err == 0 ? std::move(data) : Fd();
    }
    auto header = host_.data_header();
    while (passive_) {
      int ready = wait_for(passive_.get(), POLLIN, host_.deadline(), true);
      if (stalled(ready)) return Fd();
      if (ready == kTimeout) continue;
      if (ready == kControl) {
        if (!control_during_transfer()) return Fd();
        continue;
      }
      if (!header) {
        Fd data = accept_data_connection(passive_.get(), host_.peer());
        if (data) return data;
        continue;
      }
      Fd data = accept_data_connection(passive_.get(),
                                       [&](const Address& from) { return header->admit(from); });
      if (!data) continue;
      auto state = read_data_header(data.get(), *header);
      if (state == DataProxyHeader::State::kAccepted) {
        early_ = header->take_rest();
        return data;
      }
      if (state == DataProxyHeader::State::kNeedMore) return Fd();  // the transfer was stopped
      // Refused (and logged): closed here, and the listener waits on for the right one.
    }
    return Fd();
  }

  // --proxy-protocol-data: reads the header `data` starts with, in waits bounded by its
  // --proxy-timeout, hearing the control connection (ABOR) and the data time-out meanwhile.
  // kNeedMore when the transfer must end before the header was decided.
  DataProxyHeader::State read_data_header(int data, DataProxyHeader& header) {
    using State = DataProxyHeader::State;
    char buffer[4096];
    for (;;) {
      int ready = wait_for(data, POLLIN, std::min(header.deadline(), host_.deadline()), true);
      if (stalled(ready) || (ready == kControl && !control_during_transfer())) {
        return State::kNeedMore;
      }
      if (ready == kControl) continue;
      if (ready == kTimeout) {
        if (Clock::now() >= header.deadline()) return header.expire();
        continue;
      }
      ssize_t n = ::recv(data, buffer, sizeof(buffer), 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      auto state = n > 0 ? header.feed({buffer, static_cast<size_t>(n)}) : header.ended();
      if (state != State::kNeedMore) return state;
    }
  }

  TransferResult transfer(TransferRequest request) {
    using Status = TransferResult::Status;
    Fd data = open_data_connection(request);
    passive_.reset();
    if (!data) {
      // A data connection that never came within the data time-out is a 425, as before.
      bool aborted = stop_status_ == Status::kAborted;
      return {aborted ? Status::kAborted : Status::kNoConnection, 0, 0};
    }
    DataPump pump(std::move(request), std::move(early_));
    early_.clear();
    for (;;) {
      auto outcome = pump.step(data.get(), kPumpBudget);
      if (outcome == DataPump::Outcome::kThrottled) {
        // Over the rate: sleep until the bucket refills, hearing the control connection (ABOR)
        // and the stop pipe but not the data socket, which is ready and would wake us at once.
        // Being held back is not a stall: the data time-out does not run.
        host_.data_progress(pump.handshaking());
        auto due = std::min(host_.deadline(), Clock::now() + pump.throttle_delay());
        int ready = wait_for(-1, 0, due, true);
        if (ready == kStop) return {Status::kTimeout, pump.bytes(), 0};
        if (stalled(ready) || (ready == kControl && !control_during_transfer())) {
          return {*stop_status_, pump.bytes(), 0};
        }
        continue;
      }
      if (outcome != DataPump::Outcome::kWouldBlock && outcome != DataPump::Outcome::kBudgetSpent) {
        return pump.result(outcome);
      }
      host_.data_progress(pump.handshaking());
      bool more = outcome == DataPump::Outcome::kBudgetSpent;
      short want = pump.waits_for_write() ? POLLOUT : POLLIN;
      int ready = wait_for(data.get(), want, host_.deadline(), true, more);
      if (more && ready == kTimeout) continue;
      if (ready == kStop) return {Status::kTimeout, pump.bytes(), 0};
      if (stalled(ready) || (ready == kControl && !control_during_transfer())) {
        return {*stop_status_, pump.bytes(), 0};
      }
    }
  }

  Fd fd_;
  const ServerContext& context_;
  SessionHost host_;
  Fd passive_;
  std::string early_;  // what followed the data connection's PROXY header, for the pump
  std::optional<TransferRequest> pending_;
  std::optional<TransferResult::Status> stop_status_;  // ABOR asked the transfer to stop
  bool stopped_ = false;                               // the server is stopping
  bool closed_ = false;                                // the control connection is gone
  bool drain_seen_ = false;                            // the host was told to drain
};

}  // namespace

void serve_blocking(Fd connection, const Address& peer, const ServerContext& context) {
  try {
    BlockingConnection(std::move(connection), peer, context).run();
  } catch (const std::exception& e) {
    // One connection's failure never stops the server.
    spdlog::error("event=connection-failed peer={} error={}", peer.to_string(),
                  logfmt_value(e.what()));
  }
}

}  // namespace nm
