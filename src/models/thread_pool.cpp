#include <spdlog/spdlog.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "models/accept_loop.hpp"
#include "models/blocking_connection.hpp"
#include "models/factories.hpp"
#include "server/acceptor.hpp"

namespace nm {
namespace {

// A fixed pool of workers taking accepted connections from a bounded queue (Apache's worker
// MPM without its listener thread tricks). When every worker is busy and the queue is full, a
// new connection is refused at once (FTP: 421) rather than queued without bound.
class ThreadPoolModel final : public Model {
 public:
  const ModelTraits& traits() const override {
    static const ModelTraits t{
        "thread-pool",
        "a fixed pool of worker threads fed by a bounded queue (--workers, --queue)",
        "a worker thread per concurrent connection, fixed at start; extra clients wait in the "
        "queue or are refused",
        false,
        false,
        true,
        false};
    return t;
  }

  void run(ServerContext& context) override {
    unsigned workers = worker_count(context.options);
    size_t capacity = context.options.queue_capacity ? context.options.queue_capacity
                                                     : 4 * static_cast<size_t>(workers);
    Admission admission(context.options.max_clients, context.options.max_per_ip);
    std::vector<std::thread> pool;
    for (unsigned i = 0; i < workers; ++i) {
      pool.emplace_back([&] { work(context, admission); });
    }
    accept_loop(context, admission, [&](Fd fd, const Address& peer) {
      std::unique_lock lock(mutex_);
      if (queue_.size() >= capacity) {
        lock.unlock();
        spdlog::warn("event=refused peer={} reason=queue-full workers={}", peer.to_string(),
                     workers);
        refuse_connection(fd.release(), context.service->refusal());
        admission.release(peer);
        return;
      }
      queue_.push_back({std::move(fd), peer});
      ready_.notify_one();
    });
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      // Connections accepted but never started are closed unserved.
      for (auto& job : queue_) admission.release(job.peer);
      queue_.clear();
    }
    ready_.notify_all();
    for (auto& t : pool) t.join();
  }

 private:
  struct Job {
    Fd fd;
    Address peer;
  };

  void work(const ServerContext& context, Admission& admission) {
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      serve_blocking(std::move(job.fd), job.peer, context);
      admission.release(job.peer);
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> queue_;
  bool stopping_ = false;
};

}  // namespace

std::unique_ptr<Model> make_thread_pool_model() {
  return std::make_unique<ThreadPoolModel>();
}

}  // namespace nm
