#include "models/accept_loop.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>

#include "net/socket.hpp"
#include "server/acceptor.hpp"

namespace nm {

void accept_loop(ServerContext& context, Admission& admission,
                 const std::function<void(Fd, const Address&)>& serve, int wake_fd,
                 const std::function<void()>& on_wake) {
  Acceptor acceptor(context.listener.get());
  for (;;) {
    pollfd fds[3] = {
        {context.stop_fd, POLLIN, 0}, {context.listener.get(), POLLIN, 0}, {wake_fd, POLLIN, 0}};
    int n = ::poll(fds, wake_fd >= 0 ? 3 : 2, -1);
    if (n < 0) continue;  // EINTR
    if (fds[0].revents) return;
    if (wake_fd >= 0 && fds[2].revents && on_wake) on_wake();
    if (!fds[1].revents) continue;
    Address peer;
    int fd = acceptor.accept(&peer, false);
    if (fd < 0) {
      if (is_descriptor_shortage(errno)) {
        // Out of descriptors: the listener stays readable, so wait a moment (or for a stop)
        // rather than spin on it.
        ::poll(fds, 1, 100);
      }
      continue;
    }
    if (!admission.admit(peer)) {
      spdlog::warn("event=refused peer={} reason=limit", peer.to_string());
      refuse_connection(fd, context.service->refusal());
      continue;
    }
    serve(Fd(fd), peer);
  }
}

}  // namespace nm
