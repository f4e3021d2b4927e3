#pragma once

#include <condition_variable>
#include <functional>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

namespace nm {

// Threads started per connection, each joined once it has finished, none left behind.
class ThreadSet {
 public:
  ~ThreadSet() { join_all(); }
  // False (and logged) when the system refuses another thread.
  bool start(std::function<void()> body);
  // Joins the threads that have finished so far.
  void join_finished();
  // Waits for every thread to finish (they must be ending: the stop pipe tells them to).
  void join_all();

 private:
  using Entry = std::list<std::thread>::iterator;
  std::mutex mutex_;
  std::condition_variable finished_cv_;
  std::list<std::thread> running_;
  std::vector<Entry> finished_;
};

}  // namespace nm
