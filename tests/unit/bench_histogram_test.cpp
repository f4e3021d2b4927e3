#include <gtest/gtest.h>

#include <cmath>

#include "bench/histogram.hpp"

namespace nm::bench {
namespace {

TEST(BenchHistogram, EmptyReportsZero) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(50), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
}

TEST(BenchHistogram, SmallValuesAreExact) {
  Histogram h;
  for (uint64_t v = 0; v < 200; ++v) h.record(v);
  EXPECT_EQ(h.percentile(50), 99u);
  EXPECT_EQ(h.percentile(100), 199u);
  EXPECT_EQ(h.percentile(0), 0u);
}

TEST(BenchHistogram, BucketsTileTheRangeWithoutGaps) {
  for (int i = 0; i + 1 < Histogram::kBuckets; ++i) {
    ASSERT_EQ(Histogram::bucket_high(i) + 1, Histogram::bucket_low(i + 1)) << i;
    ASSERT_EQ(Histogram::bucket_of(Histogram::bucket_low(i)), i);
    ASSERT_EQ(Histogram::bucket_of(Histogram::bucket_high(i)), i);
  }
  EXPECT_EQ(Histogram::bucket_high(Histogram::kBuckets - 1), Histogram::kMaxTrackable);
}

TEST(BenchHistogram, RelativeErrorStaysBelowOnePercent) {
  Histogram h;
  for (uint64_t v = 1; v <= 1'000'000; ++v) h.record(v * 1000);  // 1 us .. 1 s
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    double exact = p / 100.0 * 1e9;
    double got = static_cast<double>(h.percentile(p));
    EXPECT_LE(std::abs(got - exact) / exact, 1.0 / Histogram::kHalf) << p;
  }
  EXPECT_EQ(h.max(), 1'000'000'000u);
  EXPECT_EQ(h.min(), 1000u);
  EXPECT_NEAR(h.mean(), 500'000'500.0, 1.0);
}

TEST(BenchHistogram, PercentilesAreMonotonic) {
  Histogram h;
  uint64_t x = 12345;
  for (int i = 0; i < 100000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    h.record((x >> 20) % 50'000'000);
  }
  EXPECT_LE(h.percentile(50), h.percentile(99));
  EXPECT_LE(h.percentile(99), h.percentile(99.9));
  EXPECT_LE(h.percentile(99.9), h.max());
}

TEST(BenchHistogram, MergeEqualsRecordingEverythingInOne) {
  Histogram a, b, all;
  for (uint64_t v = 0; v < 5000; ++v) {
    (v % 2 ? a : b).record(v * 37);
    all.record(v * 37);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  for (double p : {1.0, 50.0, 99.0, 99.9}) EXPECT_EQ(a.percentile(p), all.percentile(p));
}

TEST(BenchHistogram, HugeValuesAreClampedNotLost) {
  Histogram h;
  h.record(UINT64_MAX);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.percentile(100), UINT64_MAX);  // clamped to the largest sample seen
}

}  // namespace
}  // namespace nm::bench
