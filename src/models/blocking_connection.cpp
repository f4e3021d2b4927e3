#include "models/blocking_connection.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <atomic>
#include <deque>
#include <variant>

#include "net/socket.hpp"
#include "transfer/data_listener.hpp"
#include "transfer/pump.hpp"

namespace nm {
namespace {

using std::chrono::milliseconds;

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kPumpBudget = 4 * 1024 * 1024;

std::atomic<uint64_t> g_next_id{1};

int to_poll_timeout(milliseconds timeout) {
  return timeout.count() > 0 ? static_cast<int>(timeout.count()) : -1;
}

class BlockingConnection {
 public:
  BlockingConnection(Fd fd, const Address& peer, const ServerContext& context)
      : fd_(std::move(fd)), context_(context) {
    set_nonblocking(fd_.get(), true);
    set_nodelay(fd_.get());
    ConnectionInfo info{local_address(fd_.get()), peer, g_next_id++};
    session_ = context.service->open(info);
    peer_ = peer;
  }

  void run() {
    session_->start(out_);
    if (!settle()) return;
    while (!session_->done()) {
      int ready = wait_for(fd_.get(), POLLIN, context_.options.idle_timeout);
      if (ready == kStop) return;
      if (ready == kTimeout) {
        session_->timed_out(out_);
        flush();
        return;
      }
      if (!feed_control()) return;
      if (!settle()) return;
    }
  }

 private:
  enum { kReady, kTimeout, kStop, kControl };

  // Waits for `events` on fd, watching the stop pipe (and, during a transfer, the control
  // connection) too.
  // `immediate`: a timeout of zero means "just look", not "wait forever".
  int wait_for(int fd, short events, milliseconds timeout, bool watch_control = false,
               bool immediate = false) {
    pollfd fds[3] = {{fd, events, 0}, {context_.stop_fd, POLLIN, 0}, {fd_.get(), POLLIN, 0}};
    int n = ::poll(fds, watch_control ? 3 : 2, immediate ? 0 : to_poll_timeout(timeout));
    if (n < 0) {
      return errno == EINTR ? wait_for(fd, events, timeout, watch_control, immediate) : kStop;
    }
    if (n == 0) return kTimeout;
    if (fds[1].revents) return kStop;
    // Control first: a transfer whose socket is always ready must still hear ABOR.
    if (watch_control && fds[2].revents) return kControl;
    return kReady;
  }

  // Reads what the control connection has and hands it to the session; false when it ended.
  bool feed_control() {
    char buffer[kReadChunk];
    ssize_t n = ::recv(fd_.get(), buffer, sizeof(buffer), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n <= 0) return false;
    session_->receive({buffer, static_cast<size_t>(n)}, out_);
    return true;
  }

  // Sends everything in out_; false when the peer is gone or would not read for the idle time.
  bool flush() {
    while (!out_.empty()) {
      ssize_t n = ::send(fd_.get(), out_.data(), out_.size(), MSG_NOSIGNAL);
      if (n > 0) {
        out_.consume(static_cast<size_t>(n));
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (wait_for(fd_.get(), POLLOUT, context_.options.idle_timeout) != kReady) return false;
      } else {
        return false;
      }
    }
    return true;
  }

  // Runs the session's data-channel requests and sends its replies.
  bool settle() {
    if (!flush()) return false;
    while (auto request = next_request()) {
      std::visit([this](auto& r) { execute(r); }, *request);
      if (!flush() || closed_) return false;
    }
    return true;
  }

  std::optional<DataRequest> next_request() {
    if (!deferred_.empty()) {
      DataRequest r = std::move(deferred_.front());
      deferred_.pop_front();
      return r;
    }
    return session_->take_request();
  }

  void execute(PassiveRequest& request) {
    PassiveResult result;
    passive_ = open_passive_listener(request, &result);
    session_->passive_opened(result, out_);
  }
  void execute(ClosePassiveRequest&) { passive_.reset(); }
  void execute(AbortRequest&) { passive_.reset(); }
  void execute(DelayRequest& request) {
    if (!flush()) return;
    pollfd stop{context_.stop_fd, POLLIN, 0};
    if (::poll(&stop, 1, static_cast<int>(request.duration.count())) > 0) {
      closed_ = true;
      return;
    }
    session_->delay_elapsed(out_);
  }
  void execute(WorkRequest& request) {
    request.job();
    session_->work_done(out_);
  }
  void execute(TransferRequest& request) {
    if (!flush()) {
      closed_ = true;
      return;
    }
    TransferResult result = transfer(std::move(request));
    session_->transfer_finished(result, out_);
  }

  // Control input that arrives while a transfer runs: an ABOR stops the transfer.
  bool control_during_transfer(bool* aborted) {
    if (!feed_control()) {
      closed_ = true;
      return false;
    }
    while (auto request = session_->take_request()) {
      if (std::holds_alternative<AbortRequest>(*request)) {
        *aborted = true;
      } else {
        deferred_.push_back(std::move(*request));
      }
    }
    return flush();
  }

  Fd open_data_connection(const TransferRequest& request, TransferResult* result) {
    auto timeout = context_.options.data_timeout;
    if (request.active_target) {
      Fd data = connect_to(*request.active_target, true);
      if (!data || wait_for(data.get(), POLLOUT, timeout) != kReady) return Fd();
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(data.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      return err == 0 ? std::move(data) : Fd();
    }
    while (passive_) {
      int ready = wait_for(passive_.get(), POLLIN, timeout, true);
      if (ready == kStop || ready == kTimeout) return Fd();
      if (ready == kControl) {
        bool aborted = false;
        if (!control_during_transfer(&aborted) || aborted) {
          result->status = TransferResult::Status::kAborted;
          return Fd();
        }
        continue;
      }
      Address from;
      Fd data(accept_connection(passive_.get(), &from, true));
      if (!data) continue;
      if (!data_peer_allowed(from, peer_)) {
        spdlog::warn("refused data connection from {} for control peer {}", from.to_string(),
                     peer_.to_string());
        continue;
      }
      passive_.reset();
      return data;
    }
    return Fd();
  }

  TransferResult transfer(TransferRequest request) {
    using Status = TransferResult::Status;
    TransferResult result;
    result.status = Status::kNoConnection;
    Fd data = open_data_connection(request, &result);
    passive_.reset();
    if (!data) return result;
    DataPump pump(std::move(request));
    short want = pump.sending() ? POLLOUT : POLLIN;
    for (;;) {
      auto outcome = pump.step(data.get(), kPumpBudget);
      result.bytes = pump.bytes();
      if (outcome == DataPump::Outcome::kDone) {
        result.status = Status::kOk;
        return result;
      }
      if (outcome == DataPump::Outcome::kNetworkError) {
        result.status = Status::kConnectionLost;
        result.error = pump.error();
        return result;
      }
      if (outcome == DataPump::Outcome::kFileError) {
        result.status = Status::kFileError;
        result.error = pump.error();
        return result;
      }
      bool more = outcome == DataPump::Outcome::kBudgetSpent;
      int ready = wait_for(data.get(), want, more ? milliseconds(0) : context_.options.data_timeout,
                           true, more);
      if (more && ready == kTimeout) continue;
      if (ready == kTimeout || ready == kStop) {
        result.status = Status::kTimeout;
        return result;
      }
      if (ready == kControl) {
        bool aborted = false;
        if (!control_during_transfer(&aborted) || aborted) {
          result.status = Status::kAborted;
          return result;
        }
      }
    }
  }

  Fd fd_;
  const ServerContext& context_;
  Address peer_;
  std::unique_ptr<Session> session_;
  Buffer out_;
  Fd passive_;
  std::deque<DataRequest> deferred_;
  bool closed_ = false;
};

}  // namespace

void serve_blocking(Fd connection, const Address& peer, const ServerContext& context) {
  try {
    BlockingConnection(std::move(connection), peer, context).run();
  } catch (const std::exception& e) {
    // One connection's failure never stops the server.
    spdlog::error("connection from {}: {}", peer.to_string(), e.what());
  }
}

}  // namespace nm
