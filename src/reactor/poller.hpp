#pragma once

#include <memory>
#include <string_view>
#include <vector>

namespace nm {

// Readiness bits, for interest and for what is ready.
enum : unsigned {
  kReadable = 1u << 0,
  kWritable = 1u << 1,
  kHangup = 1u << 2,  // error or hang-up; reported whatever the interest
  // The peer shut its side (epoll's EPOLLRDHUP; other backends do not say): reported with
  // kReadable, and an edge-triggered loop gets no second edge for it.
  kPeerClosed = 1u << 3,
  // TCP urgent data is pending (EPOLLPRI, watched by the edge-triggered backend only): a read
  // stops short at its mark with more queued behind it. Reported with kReadable.
  kUrgent = 1u << 4,
};

struct ReadyEvent {
  int fd;
  unsigned events;
};

// A readiness multiplexer: one small backend per system call (select, poll, epoll), the way
// redis keeps ae_select.c, ae_epoll.c... under one ae.c.
class Poller {
 public:
  virtual ~Poller() = default;
  virtual std::string_view name() const = 0;
  // Edge-triggered backends report a readiness change once: handlers must drain to EAGAIN.
  virtual bool edge_triggered() const { return false; }
  // False (with errno set) when the backend cannot watch this descriptor.
  virtual bool add(int fd, unsigned interest) = 0;
  virtual void modify(int fd, unsigned interest) = 0;
  virtual void remove(int fd) = 0;
  // Waits up to timeout_ms (-1: no limit) and appends what is ready to `ready`.
  virtual void wait(std::vector<ReadyEvent>& ready, int timeout_ms) = 0;
};

std::unique_ptr<Poller> make_select_poller();
std::unique_ptr<Poller> make_poll_poller();
std::unique_ptr<Poller> make_epoll_poller(bool edge_triggered);

}  // namespace nm
