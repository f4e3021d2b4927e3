#pragma once

#include <chrono>
#include <cstdint>

namespace nm {

// The bandwidth limit of one data connection (--max-rate, --anon-max-rate, the users file's
// rate=): a token bucket, I/O-free and handed the time by its caller, so a unit test drives it
// with a made-up clock. Tokens are bytes. They accrue at the rate up to a burst of 1/20 s of it
// (at least 1 KiB, but never more than 1/4 s of a slow rate), so the first bytes go at once and a
// transfer runs at the rate within a burst: within 2.5% over 10 s at any rate. A caller may spend
// more than the bucket holds (a write it could not make smaller): the debt postpones what follows,
// so the average stays the rate whatever the sizes of the writes. Owned by the DataPump of a
// throttled transfer and used on that transfer's thread only.
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  TokenBucket(uint64_t bytes_per_second, Clock::time_point now);

  // The bytes that may go at `now`: 0 until at least half a burst has accrued, so a throttled
  // transfer moves in pieces worth a system call rather than a few bytes at a time.
  uint64_t available(Clock::time_point now);
  // `bytes` went (at the time of the last available()); may leave the bucket in debt.
  void spend(uint64_t bytes);
  // How long after `now` available() turns non-zero; zero when it already is. The time a
  // driver sleeps, or arms its timer for, instead of polling.
  Clock::duration wait(Clock::time_point now);

  uint64_t rate() const { return rate_; }
  uint64_t burst() const { return burst_; }

 private:
  void refill(Clock::time_point now);

  uint64_t rate_;
  uint64_t burst_;
  uint64_t quantum_;  // what available() waits for: half a burst
  double tokens_;     // negative: in debt
  Clock::time_point last_;
};

}  // namespace nm
