#pragma once

#include <functional>

#include "net/address.hpp"
#include "server/acceptor.hpp"
#include "uring/ring.hpp"

namespace nm::uring {

// Accepting on one listening socket through the ring: multishot accept where the kernel has it
// (5.19+), one accept per connection before that, and the descriptor-exhaustion case (EMFILE)
// waited out with a poll instead of a spin. The uring server owns one per listener (the plain
// one, the implicit-TLS one) and runs them all on its thread.
class Listener final : public Completion {
 public:
  using Admit = std::function<void(int fd, Address peer)>;

  // `fd` is non-blocking and outlives this; `admit` takes each accepted connection.
  Listener(Ring& ring, int fd, Admit admit);
  void start() { arm_accept(); }
  // Cancels what is in flight; idle() once the kernel has reported it.
  void stop();
  bool idle() const { return !accept_op_.busy && !ready_op_.busy; }
  void complete(Operation& op, const io_uring_cqe& cqe) override;

 private:
  enum Kind : uint8_t { kAccept, kReady };
  void arm_accept();
  void on_accept(const io_uring_cqe& cqe);
  void on_ready();

  Ring& ring_;
  int fd_;
  Admit admit_;
  Acceptor acceptor_;  // its spare descriptor answers EMFILE
  bool multishot_ = true;
  bool stopping_ = false;
  Address accept_peer_;  // single-shot accept only: multishot ones would overwrite it
  Operation accept_op_{this, kAccept};
  Operation ready_op_{this, kReady};  // out of descriptors: wait for a client
};

}  // namespace nm::uring
