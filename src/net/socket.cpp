#include "net/socket.hpp"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstring>
#include <system_error>

namespace nm {

namespace {

// True when something listens on `address` already: a bind without SO_REUSEPORT fails then
// (SO_REUSEADDR lets it through a TIME_WAIT, not a listener).
bool already_listening(const Address& address) {
  Fd probe(::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe) return false;
  int one = 1;
  setsockopt(probe.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (address.is_v6()) setsockopt(probe.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  return ::bind(probe.get(), address.sa(), address.len()) != 0 && errno == EADDRINUSE;
}

}  // namespace

Fd listen_on(const Address& address, const ListenOptions& options) {
  if (options.reuse_port && !options.join && address.port() != 0 && already_listening(address)) {
    throw std::system_error(EADDRINUSE, std::generic_category(), "bind " + address.to_string());
  }
  int type = SOCK_STREAM | SOCK_CLOEXEC | (options.nonblocking ? SOCK_NONBLOCK : 0);
  Fd fd(::socket(address.family(), type, 0));
  if (!fd) throw std::system_error(errno, std::generic_category(), "socket");
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (options.reuse_port) setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  if (address.is_v6()) setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  if (::bind(fd.get(), address.sa(), address.len()) != 0) {
    throw std::system_error(errno, std::generic_category(), "bind " + address.to_string());
  }
  if (::listen(fd.get(), options.backlog) != 0) {
    throw std::system_error(errno, std::generic_category(), "listen " + address.to_string());
  }
  return fd;
}

int accept_connection(int listener, Address* peer, bool nonblocking) {
  Address ignored;
  Address* out = peer ? peer : &ignored;
  *out->len_ptr() = out->capacity();
  int flags = SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
  return ::accept4(listener, out->sa(), out->len_ptr(), flags);
}

Fd connect_to(const Address& address, bool nonblocking) {
  int type = SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
  Fd fd(::socket(address.family(), type, 0));
  if (!fd) return fd;
  if (::connect(fd.get(), address.sa(), address.len()) != 0 && errno != EINPROGRESS) {
    int saved = errno;
    fd.reset();
    errno = saved;
  }
  return fd;
}

void set_nonblocking(int fd, bool on) {
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK));
}

void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

void set_oob_inline(int fd) {
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &one, sizeof(one));
}

bool is_descriptor_shortage(int err) {
  return err == EMFILE || err == ENFILE;
}

bool is_transient_accept_error(int err) {
  switch (err) {
    case EAGAIN:
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case EPERM:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
      return true;
    default:
      return false;
  }
}

std::string errno_text(int err) {
  return std::strerror(err);
}

void stop_listening(int listener) {
  if (listener >= 0) ::shutdown(listener, SHUT_RDWR);
}

}  // namespace nm
