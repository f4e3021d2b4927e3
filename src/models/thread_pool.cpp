#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "models/accept_loop.hpp"
#include "models/blocking_connection.hpp"
#include "models/factories.hpp"
#include "net/signals.hpp"
#include "server/acceptor.hpp"
#include "session/metrics.hpp"

namespace nm {
namespace {

// A pool of worker threads taking accepted connections from a bounded queue, adaptive like
// Apache's worker MPM: --workers threads at start; whenever the connections waiting outnumber
// the idle threads (plus kMinSpare), one more starts, up to --max-workers (and --max-clients);
// a thread idle for kRetireAfter leaves while more than kMaxSpare are idle, down to --workers.
// Past the ceiling, with the queue full, a new connection is refused at once (FTP: 421) rather
// than queued without bound.
class ThreadPoolModel final : public Model {
 public:
  static constexpr size_t kMinSpare = 1;
  static constexpr size_t kMaxSpare = 4;
  static constexpr std::chrono::seconds kRetireAfter{10};

  const ModelTraits& traits() const override {
    static const ModelTraits t{
        "thread-pool",
        "a pool of worker threads fed by a bounded queue, growing with the load (--workers to "
        "--max-workers, --queue)",
        "a worker thread per concurrent connection, started ahead of need; past --max-workers "
        "extra clients wait in the queue or are refused",
        false,
        false,
        true,
        false};
    return t;
  }

  void run(ServerContext& context) override {
    const auto& options = context.options;
    ceiling_ = std::max<size_t>(1, options.max_workers);
    if (options.max_clients) ceiling_ = std::min(ceiling_, options.max_clients);
    keep_ = std::min<size_t>(worker_count(options), ceiling_);
    size_t capacity = options.queue_capacity ? options.queue_capacity : 4 * keep_;
    Admission admission(options.max_clients, options.max_per_ip);
    {
      std::lock_guard lock(mutex_);
      for (size_t i = 0; i < keep_; ++i) start_thread(context, admission);
    }
    accept_loop(context, admission, [&](Fd fd, const Address& peer) {
      std::vector<std::thread> finished;
      std::unique_lock lock(mutex_);
      finished.swap(finished_);
      // One thread for each waiting connection, and a spare for the next.
      while (idle_ < queue_.size() + 1 + kMinSpare && threads_.size() < ceiling_) {
        start_thread(context, admission);
      }
      if (queue_.size() >= capacity && idle_ <= queue_.size()) {
        lock.unlock();
        count(Metric::kRefusedQueueFull);
        spdlog::warn("event=refused peer={} reason=queue-full workers={}", peer.to_string(),
                     ceiling_);
        refuse_connection(fd.release(), context.service->refusal());
        admission.release(peer);
      } else {
        queue_.push_back({std::move(fd), peer});
        ready_.notify_one();
        lock.unlock();
      }
      for (auto& t : finished) t.join();
    });
    std::map<std::thread::id, std::thread> threads;
    std::vector<std::thread> finished;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      // Connections accepted but never started hear why they are closed, as idle sessions do.
      for (auto& job : queue_) {
        refuse_connection(job.fd.release(), context.service->shutdown_notice());
        admission.release(job.peer);
      }
      queue_.clear();
      threads.swap(threads_);
      finished.swap(finished_);
    }
    ready_.notify_all();
    for (auto& [id, t] : threads) t.join();
    for (auto& t : finished) t.join();
  }

 private:
  struct Job {
    Fd fd;
    Address peer;
  };

  // Called with mutex_ held.
  void start_thread(const ServerContext& context, Admission& admission) {
    ++idle_;
    std::thread t([this, &context, &admission] { work(context, admission); });
    auto id = t.get_id();
    threads_.emplace(id, std::move(t));
    if (threads_.size() > keep_) {
      spdlog::info("event=worker-added model=thread-pool workers={}", threads_.size());
    }
  }

  void work(const ServerContext& context, Admission& admission) {
    std::unique_lock lock(mutex_);
    for (;;) {
      bool ready =
          ready_.wait_for(lock, kRetireAfter, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) break;
      if (!ready) {
        if (threads_.size() > keep_ && idle_ > kMaxSpare) {
          spdlog::info("event=worker-retired model=thread-pool workers={}", threads_.size() - 1);
          // Joined by the accept loop (or at stop): a thread cannot join itself.
          auto it = threads_.find(std::this_thread::get_id());
          finished_.push_back(std::move(it->second));
          threads_.erase(it);
          break;
        }
        continue;
      }
      Job job = std::move(queue_.front());
      queue_.pop_front();
      --idle_;
      lock.unlock();
      if (signalled(context.drain_fd) || signalled(context.stop_fd)) {
        // A drain began while this connection waited: a worker freed by the drain (its session
        // told 421) must not greet it now; it hears what the queue's others hear at stop.
        refuse_connection(job.fd.release(), context.service->shutdown_notice());
      } else {
        serve_blocking(std::move(job.fd), job.peer, context);
      }
      admission.release(job.peer);
      lock.lock();
      ++idle_;
    }
    --idle_;
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> queue_;
  std::map<std::thread::id, std::thread> threads_;
  std::vector<std::thread> finished_;  // retired, to be joined
  size_t idle_ = 0;                    // threads started and not serving
  size_t ceiling_ = 1;
  size_t keep_ = 1;
  bool stopping_ = false;
};

}  // namespace

std::unique_ptr<Model> make_thread_pool_model() {
  return std::make_unique<ThreadPoolModel>();
}

}  // namespace nm
