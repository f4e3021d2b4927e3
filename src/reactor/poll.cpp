#include <poll.h>

#include <cerrno>
#include <system_error>
#include <vector>

#include "reactor/poller.hpp"

namespace nm {
namespace {

short to_poll(unsigned interest) {
  return static_cast<short>(((interest & kReadable) ? POLLIN : 0) |
                            ((interest & kWritable) ? POLLOUT : 0));
}

// poll(2): one pollfd array handed to the kernel whole on every wait; slot_ maps a descriptor to
// its index so modify and remove do not search.
class PollPoller final : public Poller {
 public:
  std::string_view name() const override { return "poll"; }

  bool add(int fd, unsigned interest) override {
    if (static_cast<size_t>(fd) >= slot_.size()) slot_.resize(fd + 1, -1);
    slot_[fd] = static_cast<int>(fds_.size());
    fds_.push_back({fd, to_poll(interest), 0});
    return true;
  }
  void modify(int fd, unsigned interest) override { fds_[slot_[fd]].events = to_poll(interest); }
  void remove(int fd) override {
    int index = slot_[fd];
    // Move the last entry into the hole to keep the array dense.
    fds_[index] = fds_.back();
    slot_[fds_[index].fd] = index;
    fds_.pop_back();
    slot_[fd] = -1;
  }

  void wait(std::vector<ReadyEvent>& ready, int timeout_ms) override {
    int n = ::poll(fds_.data(), fds_.size(), timeout_ms);
    if (n < 0) {
      if (errno == EINTR) return;
      throw std::system_error(errno, std::generic_category(), "poll");
    }
    for (const auto& p : fds_) {
      if (n == 0) break;
      if (p.revents == 0) continue;
      --n;
      unsigned events = 0;
      if (p.revents & POLLIN) events |= kReadable;
      if (p.revents & POLLOUT) events |= kWritable;
      if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) events |= kHangup;
      ready.push_back({p.fd, events});
    }
  }

 private:
  std::vector<pollfd> fds_;
  std::vector<int> slot_;
};

}  // namespace

std::unique_ptr<Poller> make_poll_poller() {
  return std::make_unique<PollPoller>();
}

}  // namespace nm
