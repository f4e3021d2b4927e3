#pragma once

#include "net/address.hpp"
#include "net/fd.hpp"

namespace nm {

// accept() with the descriptor-exhaustion case handled. When the process is out of descriptors
// (EMFILE / ENFILE) the pending connection stays in the backlog and the listener stays readable,
// so a naive loop spins at 100% CPU. The acceptor keeps one spare descriptor: it frees it,
// accepts and closes the connection at once (the client sees a clean close), and takes it back.
class Acceptor {
 public:
  explicit Acceptor(int listener);
  // The accepted descriptor, or -1 when there is nothing to accept now (errno says why).
  int accept(Address* peer, bool nonblocking);
  int listener() const { return listener_; }

 private:
  int listener_;
  Fd spare_;
};

// Best effort: sends `bytes` without blocking (a refusal line, say), then closes.
void refuse_connection(int fd, std::string_view bytes);

}  // namespace nm
