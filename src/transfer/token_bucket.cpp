#include "transfer/token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace nm {

TokenBucket::TokenBucket(uint64_t bytes_per_second, Clock::time_point now)
    : rate_(std::max<uint64_t>(bytes_per_second, 1)),
      burst_(std::max<uint64_t>({rate_ / 20, std::min<uint64_t>(rate_ / 4, 1024), 1})),
      quantum_(std::max<uint64_t>(burst_ / 2, 1)),
      tokens_(static_cast<double>(burst_)),
      last_(now) {}

void TokenBucket::refill(Clock::time_point now) {
  if (now <= last_) return;
  double seconds = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(static_cast<double>(burst_), tokens_ + seconds * static_cast<double>(rate_));
  last_ = now;
}

uint64_t TokenBucket::available(Clock::time_point now) {
  refill(now);
  if (tokens_ < static_cast<double>(quantum_)) return 0;
  return static_cast<uint64_t>(tokens_);
}

void TokenBucket::spend(uint64_t bytes) {
  tokens_ -= static_cast<double>(bytes);
}

TokenBucket::Clock::duration TokenBucket::wait(Clock::time_point now) {
  refill(now);
  double missing = static_cast<double>(quantum_) - tokens_;
  if (missing <= 0) return Clock::duration::zero();
  auto wait = std::chrono::duration<double>(missing / static_cast<double>(rate_));
  // Rounded up: waking a hair early would find the bucket still short and wait again.
  return std::chrono::ceil<Clock::duration>(wait);
}

}  // namespace nm
