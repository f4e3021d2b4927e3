#include "models/accept_loop.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <vector>

#include "net/socket.hpp"
#include "server/acceptor.hpp"

namespace nm {

void accept_loop(ServerContext& context, Admission& admission,
                 const std::function<void(Fd, const Address&)>& serve, int wake_fd,
                 const std::function<void()>& on_wake) {
  // pollfd order: the stop pipe, the drain pipe, the wake descriptor (or an ignored -1), then
  // the listeners.
  constexpr size_t kFirstListener = 3;
  std::vector<pollfd> fds{
      {context.stop_fd, POLLIN, 0}, {context.drain_fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
  std::vector<Acceptor> acceptors;
  for (int listener : listeners(context)) {
    fds.push_back({listener, POLLIN, 0});
    acceptors.emplace_back(listener);
  }
  for (;;) {
    int n = ::poll(fds.data(), fds.size(), -1);
    if (n < 0) continue;  // EINTR
    if (fds[0].revents) return;
    if (fds[1].revents) {
      spdlog::info("event=drain listeners=closed");
      stop_listening(context);
      return;
    }
    if (wake_fd >= 0 && fds[2].revents && on_wake) on_wake();
    for (size_t i = 0; i < acceptors.size(); ++i) {
      if (!fds[i + kFirstListener].revents) continue;
      Address peer;
      int fd = acceptors[i].accept(&peer, false);
      if (fd < 0) {
        if (is_descriptor_shortage(errno)) {
          // Out of descriptors: the listener stays readable, so wait a moment (or for a stop)
          // rather than spin on it.
          ::poll(fds.data(), 1, 100);
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
}

}  // namespace nm
