#include "bench/event_loop.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <system_error>

namespace nm::bench {

Epoll::Epoll() : fd_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (!fd_) throw std::system_error(errno, std::generic_category(), "epoll_create1");
}

void Epoll::add(int fd, uint32_t events, void* owner) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = owner;
  if (::epoll_ctl(fd_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    throw std::system_error(errno, std::generic_category(), "epoll_ctl add");
  }
}

void Epoll::modify(int fd, uint32_t events, void* owner) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = owner;
  if (::epoll_ctl(fd_.get(), EPOLL_CTL_MOD, fd, &ev) != 0) {
    throw std::system_error(errno, std::generic_category(), "epoll_ctl mod");
  }
}

void Epoll::remove(int fd) {
  ::epoll_ctl(fd_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

int Epoll::wait(epoll_event* events, int capacity, int timeout_ms) {
  int n = ::epoll_wait(fd_.get(), events, capacity, timeout_ms);
  if (n < 0 && errno == EINTR) return 0;
  if (n < 0) throw std::system_error(errno, std::generic_category(), "epoll_wait");
  return n;
}

uint64_t raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

}  // namespace nm::bench
