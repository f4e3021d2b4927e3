#include <gtest/gtest.h>

#include <vector>

#include "reactor/timers.hpp"

namespace nm {

TEST(Timers, RunInDeadlineOrderAndSkipCancelled) {
  Timers timers;
  auto now = Clock::now();
  std::vector<int> order;
  timers.add(now + std::chrono::milliseconds(30), [&] { order.push_back(3); });
  auto cancelled = timers.add(now + std::chrono::milliseconds(20), [&] { order.push_back(2); });
  timers.add(now + std::chrono::milliseconds(10), [&] { order.push_back(1); });
  timers.cancel(cancelled);
  EXPECT_EQ(timers.next_timeout_ms(now), 10);
  timers.run_due(now + std::chrono::milliseconds(25));
  EXPECT_EQ(order, (std::vector<int>{1}));
  timers.run_due(now + std::chrono::milliseconds(40));
  EXPECT_EQ(order, (std::vector<int>{1, 3}));
  EXPECT_EQ(timers.next_timeout_ms(now), -1);
}

TEST(Timers, CallbackMayAddTimers) {
  Timers timers;
  auto now = Clock::now();
  int fired = 0;
  timers.add(now, [&] {
    ++fired;
    timers.add(now, [&] { ++fired; });
  });
  timers.run_due(now);
  EXPECT_EQ(fired, 2);
}

}  // namespace nm
