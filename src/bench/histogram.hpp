#pragma once

#include <array>
#include <cstdint>

namespace nm::bench {

// A log-linear histogram of non-negative integers (nanoseconds here), after HdrHistogram: the
// first group counts values below 2 * kHalf one by one, every later group covers twice the range
// of the one before with kHalf buckets, so the error of any reported value stays below 1 / kHalf
// (0.8%) whatever its magnitude, in a fixed 36 KiB and without storing a sample.
class Histogram {
 public:
  static constexpr int kSubBits = 7;
  static constexpr uint64_t kHalf = uint64_t{1} << kSubBits;  // buckets per group after the first
  static constexpr int kGroups = 34;                          // up to 2^41 ns, about 36 minutes
  static constexpr int kBuckets = static_cast<int>(2 * kHalf + (kGroups - 1) * kHalf);
  static constexpr uint64_t kMaxTrackable = (uint64_t{1} << (kSubBits + kGroups)) - 1;

  void record(uint64_t value);
  void merge(const Histogram& other);

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }
  // The smallest recorded value v such that `percent` of the samples are <= v, reported as the
  // highest value its bucket holds (clamped to the largest sample), as HdrHistogram does.
  uint64_t percentile(double percent) const;

  static int bucket_of(uint64_t value);
  static uint64_t bucket_low(int index);
  static uint64_t bucket_high(int index);

 private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  uint64_t sum_ = 0;
};

}  // namespace nm::bench
