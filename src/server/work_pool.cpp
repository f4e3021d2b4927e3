#include "server/work_pool.hpp"

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace nm {

WorkInbox::WorkInbox() : event_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (!event_) throw std::system_error(errno, std::generic_category(), "eventfd");
}

void WorkInbox::post(std::function<void()> done) {
  {
    std::lock_guard lock(mutex_);
    posted_.push_back(std::move(done));
  }
  uint64_t one = 1;
  // Only EAGAIN (the counter is full) can fail here, and then the loop is woken already.
  [[maybe_unused]] ssize_t n = ::write(event_.get(), &one, sizeof(one));
}

void WorkInbox::drain() {
  uint64_t count = 0;
  [[maybe_unused]] ssize_t n = ::read(event_.get(), &count, sizeof(count));
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard lock(mutex_);
    ready.swap(posted_);
  }
  for (auto& done : ready) done();
}

WorkPool::WorkPool(unsigned threads) {
  if (threads == 0) threads = std::max(2u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

WorkPool::~WorkPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkPool::submit(std::function<void()> job, std::shared_ptr<WorkInbox> inbox,
                      std::function<void()> done) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({std::move(job), std::move(inbox), std::move(done)});
  }
  ready_.notify_one();
}

void WorkPool::work() {
  // Below the loops' priority: a loop serves every session it holds, a job one login. When the
  // cores are busy, a storm of password checks then waits for the loops, never the reverse.
  // Best effort: a thread may always lower its own priority, but a failure changes nothing else.
  int tid = static_cast<int>(::gettid());
  errno = 0;
  int current = ::getpriority(PRIO_PROCESS, static_cast<id_t>(tid));
  if (errno == 0) ::setpriority(PRIO_PROCESS, static_cast<id_t>(tid), std::min(current + 5, 19));
  for (;;) {
    Item item;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      // At shutdown the loops are gone: queued jobs would answer nobody.
      if (stopping_) return;
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      item.job();
    } catch (const std::exception& e) {
      // The session still hears back (its shared state says nothing was found).
      spdlog::error("event=work-failed error=\"{}\"", e.what());
    }
    item.inbox->post(std::move(item.done));
  }
}

}  // namespace nm
