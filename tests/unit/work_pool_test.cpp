// The pool that runs blocking work for the event loops, and the inbox that brings answers back.
#include "server/work_pool.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

namespace nm {
namespace {

using namespace std::chrono_literals;

// Waits for the inbox's eventfd, then drains it on this (the "loop's") thread.
void wait_and_drain(WorkInbox& inbox) {
  pollfd p{inbox.fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  inbox.drain();
}

TEST(WorkPool, RunsJobsOffTheCallersThreadAndAnswersOnIt) {
  WorkPool pool(2);
  auto inbox = std::make_shared<WorkInbox>();
  auto caller = std::this_thread::get_id();
  std::thread::id ran_on;
  std::thread::id answered_on;
  pool.submit([&] { ran_on = std::this_thread::get_id(); }, inbox,
              [&] { answered_on = std::this_thread::get_id(); });
  wait_and_drain(*inbox);
  EXPECT_NE(ran_on, caller);
  EXPECT_EQ(answered_on, caller);
}

TEST(WorkPool, JobsRunBelowTheLoopsPriority) {
  WorkPool pool(1);
  auto inbox = std::make_shared<WorkInbox>();
  int loop_nice = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
  int job_nice = loop_nice;
  pool.submit([&] { job_nice = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid())); }, inbox,
              [] {});
  wait_and_drain(*inbox);
  EXPECT_EQ(job_nice, std::min(loop_nice + 5, 19));
}

TEST(WorkPool, AStormRunsOnTheFixedThreadsAndEveryJobIsAnswered) {
  WorkPool pool(2);
  EXPECT_EQ(pool.threads(), 2u);
  auto inbox = std::make_shared<WorkInbox>();
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  int answered = 0;
  constexpr int kJobs = 50;
  for (int i = 0; i < kJobs; ++i) {
    pool.submit(
        [&] {
          int now = ++running;
          int seen = most.load();
          while (now > seen && !most.compare_exchange_weak(seen, now)) {
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
          --running;
        },
        inbox, [&] { ++answered; });
  }
  while (answered < kJobs) wait_and_drain(*inbox);
  EXPECT_EQ(answered, kJobs);
  EXPECT_LE(most.load(), 2) << "no more jobs at once than threads";
}

TEST(WorkPool, AnAnswerOutlivesItsLoop) {
  // The loop (and its reference to the inbox) is gone before the job ends: the job's item keeps
  // the inbox alive until its answer is posted there, then lets it go; nothing touches freed
  // memory (ASan) and nothing leaks.
  std::atomic<bool> release{false};
  std::atomic<bool> answered{false};
  std::weak_ptr<WorkInbox> kept;
  {
    WorkPool pool(1);
    {
      auto inbox = std::make_shared<WorkInbox>();
      kept = inbox;
      pool.submit(
          [&] {
            while (!release) std::this_thread::yield();
          },
          inbox, [&] { answered = true; });
    }
    EXPECT_FALSE(kept.expired()) << "the job in flight holds the inbox";
    release = true;
    // The answer is posted into the inbox nobody reads, then the pool lets the inbox go.
    for (int i = 0; i < 5000 && !kept.expired(); ++i) std::this_thread::sleep_for(1ms);
    EXPECT_TRUE(kept.expired()) << "the answered job still holds the inbox";
  }
  EXPECT_FALSE(answered) << "an answer must not run without its loop draining it";
}

}  // namespace
}  // namespace nm
