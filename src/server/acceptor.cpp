#include "server/acceptor.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "net/logfmt.hpp"
#include "net/socket.hpp"

namespace nm {

Acceptor::Acceptor(int listener)
    : listener_(listener), spare_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {}

int Acceptor::accept(Address* peer, bool nonblocking) {
  int fd = accept_connection(listener_, peer, nonblocking);
  if (fd >= 0) return fd;
  int err = errno;
  if (is_descriptor_shortage(err) && spare_) {
    spare_.reset();
    int victim = accept_connection(listener_, nullptr, false);
    if (victim >= 0) ::close(victim);
    spare_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    spdlog::warn("event=refused reason=out-of-descriptors error={}", logfmt_value(errno_text(err)));
  } else if (is_descriptor_shortage(err)) {
    spdlog::warn("event=accept-paused reason=out-of-descriptors error={}",
                 logfmt_value(errno_text(err)));
  } else if (!is_transient_accept_error(err) && err != EAGAIN) {
    spdlog::error("event=accept-failed error={}", logfmt_value(errno_text(err)));
  }
  errno = err;
  return -1;
}

void refuse_connection(int fd, std::string_view bytes) {
  if (!bytes.empty()) {
    [[maybe_unused]] auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  ::close(fd);
}

}  // namespace nm
