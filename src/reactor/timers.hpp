#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <queue>
#include <unordered_map>
#include <vector>

namespace nm {

using Clock = std::chrono::steady_clock;
using TimerId = uint64_t;

// One-shot timers on a min-heap. Cancelling only forgets the callback; the heap entry is
// skipped when it comes up, which keeps cancel O(1).
class Timers {
 public:
  TimerId add(Clock::time_point deadline, std::function<void()> callback);
  void cancel(TimerId id) { callbacks_.erase(id); }
  // Milliseconds until the next deadline, rounded up; -1 when there is none.
  int next_timeout_ms(Clock::time_point now);
  // Runs every callback whose deadline has passed.
  void run_due(Clock::time_point now);
  size_t size() const { return callbacks_.size(); }

 private:
  struct Entry {
    Clock::time_point deadline;
    TimerId id;
    bool operator>(const Entry& other) const { return deadline > other.deadline; }
  };
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
  std::unordered_map<TimerId, std::function<void()>> callbacks_;
  TimerId next_id_ = 1;
};

}  // namespace nm
