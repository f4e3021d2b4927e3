#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "reactor/poller.hpp"
#include "reactor/timers.hpp"

namespace nm {

// Something that owns a watched descriptor and is told when it is ready.
class Handler {
 public:
  virtual ~Handler() = default;
  virtual void on_ready(unsigned events) = 0;
};

// One thread's event loop: a Poller, the handler of each watched descriptor, and timers.
// Handlers may watch, unwatch and close descriptors (their own or others) from inside on_ready.
class EventLoop {
 public:
  explicit EventLoop(std::unique_ptr<Poller> poller);

  // False (errno set) when the backend refuses the descriptor.
  bool watch(int fd, unsigned interest, Handler* handler);
  void change(int fd, unsigned interest);
  void unwatch(int fd);
  bool edge_triggered() const { return edge_; }
  std::string_view backend() const { return poller_->name(); }

  TimerId run_after(std::chrono::milliseconds delay, std::function<void()> callback) {
    return timers_.add(Clock::now() + delay, std::move(callback));
  }
  void cancel(TimerId id) { timers_.cancel(id); }

  // Dispatches events and timers until stop() is called.
  void run();
  void stop() { running_ = false; }

 private:
  struct Slot {
    Handler* handler = nullptr;
    unsigned interest = 0;
    uint64_t generation = 0;  // bumped on unwatch so a stale event is not delivered
  };
  std::unique_ptr<Poller> poller_;
  bool edge_;
  std::vector<Slot> slots_;
  std::vector<ReadyEvent> ready_;
  Timers timers_;
  bool running_ = false;
};

}  // namespace nm
