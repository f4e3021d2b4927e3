#include "server/context.hpp"

#include <algorithm>
#include <thread>

#include "net/socket.hpp"

namespace nm {

unsigned worker_count(const ServerOptions& options) {
  return options.workers ? options.workers : std::max(1u, std::thread::hardware_concurrency());
}

std::vector<int> listeners(const ServerContext& context) {
  std::vector<int> fds{context.listener.get()};
  if (context.implicit_listener) fds.push_back(context.implicit_listener.get());
  return fds;
}

void stop_listening(const ServerContext& context) {
  stop_listening(context.listener.get());
  stop_listening(context.implicit_listener.get());
}

}  // namespace nm
