#include <sys/epoll.h>

#include <cerrno>
#include <system_error>
#include <vector>

#include "net/fd.hpp"
#include "reactor/poller.hpp"

namespace nm {
namespace {

// epoll(7): interest lives in the kernel, so a wait costs what is ready, not what is watched.
// Edge-triggered mode (EPOLLET) reports each change once; its users read and write to EAGAIN.
class EpollPoller final : public Poller {
 public:
  explicit EpollPoller(bool edge) : edge_(edge), epfd_(epoll_create1(EPOLL_CLOEXEC)) {
    if (!epfd_) throw std::system_error(errno, std::generic_category(), "epoll_create1");
    events_.resize(256);
  }

  std::string_view name() const override { return edge_ ? "epoll-et" : "epoll"; }
  bool edge_triggered() const override { return edge_; }

  bool add(int fd, unsigned interest) override { return control(EPOLL_CTL_ADD, fd, interest); }
  void modify(int fd, unsigned interest) override { control(EPOLL_CTL_MOD, fd, interest); }
  void remove(int fd) override { epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, fd, nullptr); }

  void wait(std::vector<ReadyEvent>& ready, int timeout_ms) override {
    int n = epoll_wait(epfd_.get(), events_.data(), static_cast<int>(events_.size()), timeout_ms);
    if (n < 0) {
      if (errno == EINTR) return;
      throw std::system_error(errno, std::generic_category(), "epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      unsigned events = 0;
      uint32_t e = events_[i].events;
      if (e & (EPOLLIN | EPOLLRDHUP)) events |= kReadable;
      if (e & EPOLLRDHUP) events |= kPeerClosed;
      if (e & EPOLLPRI) events |= kReadable | kUrgent;
      if (e & EPOLLOUT) events |= kWritable;
      if (e & (EPOLLERR | EPOLLHUP)) events |= kHangup;
      ready.push_back({events_[i].data.fd, events});
    }
    // A full batch hints at more ready descriptors than slots: take more next time.
    if (n == static_cast<int>(events_.size()) && events_.size() < 4096) {
      events_.resize(events_.size() * 2);
    }
  }

 private:
  bool control(int op, int fd, unsigned interest) {
    epoll_event ev{};
    ev.data.fd = fd;
    uint32_t events = 0;
    if (interest & kReadable) events |= EPOLLIN | EPOLLRDHUP;
    if (interest & kWritable) events |= EPOLLOUT;
    // Edge-triggered readers stop at a short read unless told that it may not have drained
    // the socket: urgent data (an FTP Synch) is one such case.
    if (edge_ && (interest & kReadable)) events |= EPOLLPRI;
    if (edge_) events |= EPOLLET;
    ev.events = events;
    return epoll_ctl(epfd_.get(), op, fd, &ev) == 0;
  }

  bool edge_;
  Fd epfd_;
  std::vector<epoll_event> events_;
};

}  // namespace

std::unique_ptr<Poller> make_epoll_poller(bool edge_triggered) {
  return std::make_unique<EpollPoller>(edge_triggered);
}

}  // namespace nm
