#pragma once

#include <sys/epoll.h>

#include <chrono>
#include <cstdint>

#include "net/fd.hpp"

namespace nm::bench {

using Clock = std::chrono::steady_clock;

inline uint64_t now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
          .count());
}

inline uint64_t seconds_ns(double s) {
  return static_cast<uint64_t>(s * 1e9);
}

// One epoll instance per load thread; each registration carries a pointer back to its owner.
class Epoll {
 public:
  Epoll();
  void add(int fd, uint32_t events, void* owner);
  void modify(int fd, uint32_t events, void* owner);
  void remove(int fd);
  // Ready events into `events`; 0 on timeout or EINTR.
  int wait(epoll_event* events, int capacity, int timeout_ms);

 private:
  Fd fd_;
};

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit.
uint64_t raise_fd_limit();

}  // namespace nm::bench
