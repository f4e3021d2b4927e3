#include "client/timed_io.hpp"

#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "net/socket.hpp"

namespace nm::client {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;

}  // namespace

void request_interrupt() {
  g_interrupted = 1;
}
void clear_interrupt() {
  g_interrupted = 0;
}
bool interrupt_requested() {
  return g_interrupted != 0;
}

void wait_ready(int fd, short events, Millis timeout, std::string_view what) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (g_interrupted) throw Interrupted();
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      throw NetworkError(fmt::format("{}: no answer within {} s", what,
                                     std::chrono::duration<double>(timeout).count()));
    }
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1 << 30)));
    if (n > 0) return;
    if (n < 0 && errno != EINTR) throw NetworkError(fmt::format("{}: {}", what, errno_text()));
  }
}

Fd connect_address(const Address& address, Millis timeout) {
  Fd fd = connect_to(address, true);
  if (!fd) throw NetworkError(fmt::format("connect to {}: {}", address.to_string(), errno_text()));
  wait_ready(fd.get(), POLLOUT, timeout, "connect to " + address.to_string());
  int err = 0;
  socklen_t len = sizeof(err);
  getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    throw NetworkError(fmt::format("connect to {}: {}", address.to_string(), errno_text(err)));
  }
  return fd;
}

Fd connect_host(const std::string& host, uint16_t port, Millis timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &list);
  if (rc != 0) throw NetworkError(fmt::format("{}: {}", host, gai_strerror(rc)));
  std::string errors;
  Fd fd;
  for (auto* ai = list; ai && !fd; ai = ai->ai_next) {
    try {
      fd = connect_address(Address(ai->ai_addr, ai->ai_addrlen), timeout);
    } catch (const NetworkError& e) {
      if (!errors.empty()) errors += "; ";
      errors += e.what();
    }
  }
  freeaddrinfo(list);
  if (!fd) throw NetworkError(errors.empty() ? host + ": no address" : errors);
  set_nodelay(fd.get());
  return fd;
}

size_t read_some(int fd, char* buf, size_t n, Millis timeout, std::string_view what) {
  for (;;) {
    ssize_t got = ::recv(fd, buf, n, 0);
    if (got >= 0) return static_cast<size_t>(got);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      wait_ready(fd, POLLIN, timeout, what);
      continue;
    }
    throw NetworkError(fmt::format("{}: {}", what, errno_text()));
  }
}

void write_all(int fd, std::string_view data, Millis timeout, std::string_view what) {
  while (!data.empty()) {
    ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent >= 0) {
      data.remove_prefix(static_cast<size_t>(sent));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      wait_ready(fd, POLLOUT, timeout, what);
    } else {
      throw NetworkError(fmt::format("{}: {}", what, errno_text()));
    }
  }
}

Fd accept_from(int listener, const Address& expected_peer, Millis timeout) {
  for (;;) {
    wait_ready(listener, POLLIN, timeout, "waiting for the server's data connection");
    Address peer;
    Fd fd(accept_connection(listener, &peer, true));
    if (!fd) {
      if (is_transient_accept_error(errno)) continue;
      throw NetworkError("accept: " + errno_text());
    }
    // Anyone may connect to an open port; only the server's host may feed our transfer.
    if (peer.same_host(expected_peer)) return fd;
  }
}

}  // namespace nm::client
