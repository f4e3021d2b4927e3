#pragma once

#include <cerrno>
#include <string>

#include "net/address.hpp"
#include "net/fd.hpp"

namespace nm {

struct ListenOptions {
  int backlog = 511;
  bool reuse_port = false;  // SO_REUSEPORT, for one listener per event loop
  bool nonblocking = false;
  // With reuse_port: the port is already ours (reactors' per-loop copies). Otherwise a port
  // someone already listens on is refused (EADDRINUSE) as without SO_REUSEPORT, so that a second
  // server started on it by mistake fails instead of silently taking half the connections.
  bool join = false;
};

// Binds and listens; throws std::system_error with the address in the message on failure.
Fd listen_on(const Address& address, const ListenOptions& options);
// Returns the accepted descriptor (close-on-exec, non-blocking when asked) or -1 with errno set.
int accept_connection(int listener, Address* peer, bool nonblocking);
// Starts a connection; non-blocking connects return with EINPROGRESS in errno.
Fd connect_to(const Address& address, bool nonblocking);
// Drain: the listening socket stops listening now (shutdown(2)), in every process that shares
// it, so a connect is refused; its descriptor stays open for its owner to close. Watchers must
// stop watching it first: it then polls as hung up. Any thread; idempotent.
void stop_listening(int listener);
void set_nonblocking(int fd, bool on);
// Sets TCP_NODELAY: the control and echo traffic is small request/answer exchanges.
void set_nodelay(int fd);
// Sets SO_OOBINLINE: TCP urgent data stays in the stream. FTP clients send ABOR's Telnet
// "IAC IP IAC DM" with a byte of it urgent; without this the kernel takes that byte out of the
// stream and what is left ("\xf2ABOR") is no command the session knows.
void set_oob_inline(int fd);
// True for errors of accept() that say "try again later" rather than "this listener is broken".
bool is_transient_accept_error(int err);
// True for EMFILE and ENFILE: the process or the system has no descriptor left. The listener stays
// readable meanwhile, so a server must wait rather than retry accept() at once.
bool is_descriptor_shortage(int err);
std::string errno_text(int err = errno);

}  // namespace nm
