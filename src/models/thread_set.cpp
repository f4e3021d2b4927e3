#include "models/thread_set.hpp"

#include <spdlog/spdlog.h>

#include <system_error>

#include "net/logfmt.hpp"

namespace nm {

bool ThreadSet::start(std::function<void()> body) {
  std::lock_guard lock(mutex_);
  auto it = running_.emplace(running_.end());
  try {
    *it = std::thread([this, it, body = std::move(body)] {
      body();
      std::lock_guard done(mutex_);
      finished_.push_back(it);
      finished_cv_.notify_all();
    });
  } catch (const std::system_error& e) {
    running_.erase(it);
    spdlog::error("event=thread-failed error={}", logfmt_value(e.what()));
    return false;
  }
  return true;
}

void ThreadSet::join_finished() {
  std::vector<Entry> finished;
  {
    std::lock_guard lock(mutex_);
    finished.swap(finished_);
  }
  for (auto it : finished) {
    it->join();
    std::lock_guard lock(mutex_);
    running_.erase(it);
  }
}

void ThreadSet::join_all() {
  for (;;) {
    join_finished();
    std::unique_lock lock(mutex_);
    if (running_.empty()) return;
    finished_cv_.wait(lock, [this] { return !finished_.empty(); });
  }
}

}  // namespace nm
