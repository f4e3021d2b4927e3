#include "reactor/event_loop.hpp"

namespace nm {

EventLoop::EventLoop(std::unique_ptr<Poller> poller)
    : poller_(std::move(poller)), edge_(poller_->edge_triggered()) {}

bool EventLoop::watch(int fd, unsigned interest, Handler* handler) {
  if (!poller_->add(fd, interest)) return false;
  if (static_cast<size_t>(fd) >= slots_.size()) slots_.resize(fd + 64);
  slots_[fd].handler = handler;
  slots_[fd].interest = interest;
  return true;
}

void EventLoop::change(int fd, unsigned interest) {
  if (fd < 0 || static_cast<size_t>(fd) >= slots_.size() || !slots_[fd].handler) return;
  Slot& slot = slots_[fd];
  if (slot.interest == interest) return;
  slot.interest = interest;
  poller_->modify(fd, interest);
}

void EventLoop::unwatch(int fd) {
  if (fd < 0 || static_cast<size_t>(fd) >= slots_.size()) return;
  Slot& slot = slots_[fd];
  if (!slot.handler) return;
  poller_->remove(fd);
  slot.handler = nullptr;
  slot.interest = 0;
  ++slot.generation;
}

void EventLoop::run() {
  running_ = true;
  std::vector<uint64_t> generations;
  while (running_) {
    ready_.clear();
    poller_->wait(ready_, timers_.next_timeout_ms(Clock::now()));
    // Remember whom each event was for: a handler earlier in this batch may close a descriptor
    // and accept a new one with the same number, which must not get the old one's event.
    generations.clear();
    for (const auto& ev : ready_) generations.push_back(slots_[ev.fd].generation);
    for (size_t i = 0; i < ready_.size() && running_; ++i) {
      const Slot& slot = slots_[ready_[i].fd];
      if (slot.handler && slot.generation == generations[i])
        slot.handler->on_ready(ready_[i].events);
    }
    timers_.run_due(Clock::now());
  }
}

}  // namespace nm
