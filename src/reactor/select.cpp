#include <sys/select.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <system_error>

#include "reactor/poller.hpp"

namespace nm {
namespace {

// select(2): two fd_sets rebuilt for every wait. An fd_set is a fixed bitmap of FD_SETSIZE bits,
// so a descriptor at or past it cannot be watched at all: add() refuses it instead of writing
// past the bitmap.
class SelectPoller final : public Poller {
 public:
  std::string_view name() const override { return "select"; }

  bool add(int fd, unsigned interest) override {
    if (fd < 0 || fd >= FD_SETSIZE) {
      errno = EMFILE;
      return false;
    }
    interest_[fd] = interest;
    fds_.insert(fd);
    return true;
  }
  void modify(int fd, unsigned interest) override { interest_[fd] = interest; }
  void remove(int fd) override {
    interest_[fd] = 0;
    fds_.erase(fd);
  }

  void wait(std::vector<ReadyEvent>& ready, int timeout_ms) override {
    fd_set readable, writable;
    FD_ZERO(&readable);
    FD_ZERO(&writable);
    int max_fd = -1;
    for (int fd : fds_) {
      if (interest_[fd] & kReadable) FD_SET(fd, &readable);
      if (interest_[fd] & kWritable) FD_SET(fd, &writable);
      max_fd = std::max(max_fd, fd);
    }
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    int n = ::select(max_fd + 1, &readable, &writable, nullptr, timeout_ms < 0 ? nullptr : &tv);
    if (n < 0) {
      if (errno == EINTR) return;
      throw std::system_error(errno, std::generic_category(), "select");
    }
    for (int fd : fds_) {
      if (n == 0) break;
      unsigned events = 0;
      if (FD_ISSET(fd, &readable)) events |= kReadable;
      if (FD_ISSET(fd, &writable)) events |= kWritable;
      if (events) {
        ready.push_back({fd, events});
        --n;
      }
    }
  }

 private:
  unsigned interest_[FD_SETSIZE] = {};
  std::set<int> fds_;
};

}  // namespace

std::unique_ptr<Poller> make_select_poller() {
  return std::make_unique<SelectPoller>();
}

}  // namespace nm
