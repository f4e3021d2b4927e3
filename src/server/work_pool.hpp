#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "net/fd.hpp"

namespace nm {

// A mailbox from the pool's threads to one event loop: post() from any thread; the loop watches
// fd() (an eventfd, readable while something waits) and calls drain() on its own thread, which
// runs what was posted there. Shared (shared_ptr) by the loop and the jobs in flight, so a job
// that ends after its loop has gone posts into a mailbox nobody reads, harmlessly.
class WorkInbox {
 public:
  WorkInbox();
  int fd() const { return event_.get(); }
  void post(std::function<void()> done);
  void drain();

 private:
  Fd event_;
  std::mutex mutex_;
  std::vector<std::function<void()>> posted_;
};

// A fixed set of threads running the blocking work (password hashes, folder reads) that event
// loops and io_uring hand off, so none of it stalls the sessions on a loop. Bounded: the threads
// are fixed, and the queue holds at most one job per session (a session waits for its job's
// answer before it asks for more), so it is bounded by the connections the server admits; a
// login storm waits its turn in order. Its threads run 5 nice levels below the loops, so under
// CPU contention the sessions already served come first. Made by the model before its loops,
// destroyed after them; submit() may be called from any thread.
class WorkPool {
 public:
  // 0: the number of cores, at least 2.
  explicit WorkPool(unsigned threads = 0);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Runs `job` on a pool thread, then posts `done` to `inbox`.
  void submit(std::function<void()> job, std::shared_ptr<WorkInbox> inbox,
              std::function<void()> done);
  unsigned threads() const { return static_cast<unsigned>(threads_.size()); }

 private:
  struct Item {
    std::function<void()> job;
    std::shared_ptr<WorkInbox> inbox;
    std::function<void()> done;
  };
  void work();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace nm
