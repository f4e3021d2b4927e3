#include "models/event_model.hpp"

#include "models/event_server.hpp"
#include "net/socket.hpp"

namespace nm {

void EventModel::run(ServerContext& context) {
  auto fds = listeners(context);
  for (int fd : fds) set_nonblocking(fd, true);
  EventLoop loop(make_poller_());
  Admission admission(context.options.max_clients, context.options.max_per_ip);
  WorkPool pool;
  EventServer server(loop, fds, context, admission, pool);
  server.run();
}

}  // namespace nm
