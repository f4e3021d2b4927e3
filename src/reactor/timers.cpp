#include "reactor/timers.hpp"

namespace nm {

TimerId Timers::add(Clock::time_point deadline, std::function<void()> callback) {
  TimerId id = next_id_++;
  heap_.push({deadline, id});
  callbacks_.emplace(id, std::move(callback));
  return id;
}

int Timers::next_timeout_ms(Clock::time_point now) {
  while (!heap_.empty() && !callbacks_.count(heap_.top().id)) heap_.pop();
  if (heap_.empty()) return -1;
  auto wait = heap_.top().deadline - now;
  if (wait <= Clock::duration::zero()) return 0;
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count());
}

void Timers::run_due(Clock::time_point now) {
  while (!heap_.empty() && heap_.top().deadline <= now) {
    auto id = heap_.top().id;
    heap_.pop();
    auto it = callbacks_.find(id);
    if (it == callbacks_.end()) continue;
    auto callback = std::move(it->second);
    callbacks_.erase(it);
    callback();
  }
}

}  // namespace nm
