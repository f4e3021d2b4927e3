#include "transfer/token_bucket.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace nm {
namespace {

using Clock = TokenBucket::Clock;
using std::chrono::milliseconds;

TEST(TokenBucket, StartsWithABurstThenWaitsForTheRate) {
  Clock::time_point t0{};
  TokenBucket bucket(100'000, t0);
  EXPECT_EQ(bucket.burst(), 5'000u);  // 1/20 s
  EXPECT_EQ(bucket.available(t0), 5'000u);
  bucket.spend(5'000);
  EXPECT_EQ(bucket.available(t0), 0u);
  // Half a burst (2,500 bytes) at 100,000/s is 25 ms away.
  EXPECT_EQ(bucket.wait(t0), milliseconds(25));
  EXPECT_EQ(bucket.available(t0 + milliseconds(24)), 0u);
  EXPECT_EQ(bucket.available(t0 + milliseconds(25)), 2'500u);
  EXPECT_EQ(bucket.wait(t0 + milliseconds(25)), Clock::duration::zero());
}

TEST(TokenBucket, NeverHoldsMoreThanABurst) {
  Clock::time_point t0{};
  TokenBucket bucket(100'000, t0);
  EXPECT_EQ(bucket.available(t0 + std::chrono::hours(1)), 5'000u);
}

TEST(TokenBucket, DebtPostponesWhatFollows) {
  Clock::time_point t0{};
  TokenBucket bucket(100'000, t0);
  bucket.available(t0);
  bucket.spend(105'000);  // a write the caller could not cut: 100,000 past the burst
  // 100,000 of debt plus half a burst: 1.025 s.
  EXPECT_EQ(bucket.wait(t0), milliseconds(1025));
  EXPECT_EQ(bucket.available(t0 + milliseconds(1000)), 0u);
  EXPECT_GT(bucket.available(t0 + milliseconds(1025)), 0u);
}

TEST(TokenBucket, SmallRatesGetAKibibyteBurstOrAQuarterSecond) {
  Clock::time_point t0{};
  EXPECT_EQ(TokenBucket(10'000, t0).burst(), 1024u);
  EXPECT_EQ(TokenBucket(1'000, t0).burst(), 250u);
  EXPECT_EQ(TokenBucket(1, t0).burst(), 1u);
}

// A transfer driven the way the drivers drive it: take what is available (cut to a chunk), and
// when nothing is, sleep exactly wait(). Over 10 s of made-up time the rate holds within 3% at
// any rate (the issue asks 10%), within 1% from 64 KB/s up.
TEST(TokenBucket, HoldsTheRateOverATransfer) {
  for (uint64_t rate : {1'000ull, 64'000ull, 262'144ull, 10'000'000ull, 1'000'000'000ull}) {
    Clock::time_point t0{};
    Clock::time_point now = t0;
    TokenBucket bucket(rate, now);
    uint64_t moved = 0;
    uint64_t total = rate * 10;
    int wakeups = 0;
    while (moved < total) {
      uint64_t allowed = bucket.available(now);
      if (allowed == 0) {
        auto wait = bucket.wait(now);
        ASSERT_GT(wait, Clock::duration::zero());
        // The drivers round up to milliseconds and wake a little late.
        now += std::chrono::ceil<milliseconds>(wait) + std::chrono::microseconds(300);
        ++wakeups;
        continue;
      }
      uint64_t n = std::min({allowed, uint64_t{256 * 1024}, total - moved});
      bucket.spend(n);
      moved += n;
    }
    double seconds = std::chrono::duration<double>(now - t0).count();
    double measured = static_cast<double>(moved) / seconds;
    EXPECT_NEAR(measured / static_cast<double>(rate), 1.0, rate < 64'000 ? 0.03 : 0.01)
        << "rate " << rate;
    // No busy waiting: at most about 40 wake-ups a second (half a burst each) plus chunking.
    EXPECT_LT(wakeups, 10 * 45 + static_cast<int>(total / (256 * 1024))) << "rate " << rate;
  }
}

}  // namespace
}  // namespace nm
