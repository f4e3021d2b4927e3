#include "bench/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace nm::bench {

int Histogram::bucket_of(uint64_t value) {
  value = std::min(value, kMaxTrackable);
  if (value < 2 * kHalf) return static_cast<int>(value);
  int msb = 63 - std::countl_zero(value);
  int group = msb - kSubBits;  // >= 1: value >> group lies in [kHalf, 2 * kHalf)
  auto sub = static_cast<int>((value >> group) - kHalf);
  return static_cast<int>(2 * kHalf) + (group - 1) * static_cast<int>(kHalf) + sub;
}

uint64_t Histogram::bucket_low(int index) {
  auto i = static_cast<uint64_t>(index);
  if (i < 2 * kHalf) return i;
  uint64_t group = (i - 2 * kHalf) / kHalf + 1;
  uint64_t sub = (i - 2 * kHalf) % kHalf;
  return (kHalf + sub) << group;
}

uint64_t Histogram::bucket_high(int index) {
  auto i = static_cast<uint64_t>(index);
  if (i < 2 * kHalf) return i;
  uint64_t group = (i - 2 * kHalf) / kHalf + 1;
  return bucket_low(index) + (uint64_t{1} << group) - 1;
}

void Histogram::record(uint64_t value) {
  ++counts_[bucket_of(value)];
  ++count_;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += value;
}

void Histogram::merge(const Histogram& other) {
  for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

uint64_t Histogram::percentile(double percent) const {
  if (count_ == 0) return 0;
  percent = std::clamp(percent, 0.0, 100.0);
  // The rank of the sample asked for, counted from 1, so that p0 is the smallest sample.
  auto rank = static_cast<uint64_t>(std::ceil(percent / 100.0 * static_cast<double>(count_)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(bucket_high(i), min_, max_);
  }
  return max_;
}

}  // namespace nm::bench
