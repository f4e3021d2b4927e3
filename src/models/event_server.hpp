#pragma once

#include <memory>
#include <unordered_map>
#include <vector>

#include "models/model.hpp"
#include "reactor/event_loop.hpp"
#include "server/acceptor.hpp"
#include "server/admission.hpp"
#include "server/work_pool.hpp"

namespace nm {

class EventConnection;

// Serves connections on one EventLoop, one thread, non-blocking sockets: the body of the select,
// poll, epoll and epoll-et models, and of each loop of the reactors model. Output that cannot be
// written is buffered, writability is asked for only while that buffer is not empty, and a
// connection whose output passes the high-water mark is not read until it drains, so memory stays
// bounded under a slow reader.
class EventServer {
 public:
  // `listeners` (the plain one, then the implicit-TLS one, if any) must be non-blocking; they
  // and `pool` stay owned by the caller, and outlive this.
  EventServer(EventLoop& loop, const std::vector<int>& listeners, const ServerContext& context,
              Admission& admission, WorkPool& pool);
  ~EventServer();

  // Until context.stop_fd becomes readable; then every connection is closed. Once
  // context.drain_fd is readable, until the last connection has closed (drain()).
  void run();

  // For EventConnection.
  EventLoop& loop() { return loop_; }
  const ServerContext& context() const { return context_; }
  char* scratch() { return scratch_.get(); }
  static constexpr size_t kScratchSize = 64 * 1024;
  void close(EventConnection* connection);
  // Runs `job` on the pool, then `done` on this loop's thread.
  void submit_work(std::function<void()> job, std::function<void()> done) {
    pool_.submit(std::move(job), inbox_, std::move(done));
  }

 private:
  class ListenHandler;
  class StopHandler;
  class InboxHandler;
  class DrainHandler;
  // One listening socket, its acceptor (which holds its spare descriptor from the start, before
  // any shortage) and its handler.
  struct Listening {
    int fd;
    Acceptor acceptor;
    std::unique_ptr<Handler> handler;
  };
  void accept_ready(Listening& listening);
  // Out of descriptors: stop watching the listeners for a moment instead of spinning on them.
  void pause_accepting();
  // Stops listening, asks every connection's host to drain, and stops the loop once none is
  // left.
  void drain();

  EventLoop& loop_;
  std::vector<Listening> listening_;
  const ServerContext& context_;
  Admission& admission_;
  std::unique_ptr<Handler> stop_handler_;
  std::unique_ptr<Handler> drain_handler_;
  bool draining_ = false;
  WorkPool& pool_;
  std::shared_ptr<WorkInbox> inbox_ = std::make_shared<WorkInbox>();
  std::unique_ptr<Handler> inbox_handler_;
  std::unordered_map<EventConnection*, std::unique_ptr<EventConnection>> connections_;
  std::vector<std::unique_ptr<EventConnection>> closed_;  // freed after the current dispatch
  std::unique_ptr<char[]> scratch_;                       // one read buffer for the whole loop
};

}  // namespace nm
