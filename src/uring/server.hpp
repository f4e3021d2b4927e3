#pragma once

#include <memory>
#include <unordered_map>
#include <vector>

#include "server/acceptor.hpp"
#include "server/admission.hpp"
#include "server/context.hpp"
#include "server/work_pool.hpp"
#include "uring/listener.hpp"
#include "uring/recv_buffers.hpp"
#include "uring/ring.hpp"

namespace nm::uring {

class Connection;

// The uring model's one thread: one ring for every connection, the listeners' accepts (see
// uring/listener.hpp) and the stop descriptor's poll.
class Server final : public Completion {
 public:
  explicit Server(const ServerContext& context);
  ~Server();

  // Until context.stop_fd becomes readable; then every connection is closed. Once
  // context.drain_fd is readable, until the last connection has closed (drain()).
  void run();

  // For Connection.
  Ring& ring() { return ring_; }
  RecvBuffers& buffers() { return buffers_; }
  // Multishot recv (6.0+): one request reads until cancelled. A kernel without it says EINVAL
  // once, and every connection then arms one recv per read.
  bool multishot_recv() const { return multishot_recv_; }
  void no_multishot_recv() { multishot_recv_ = false; }
  const ServerContext& context() const { return context_; }
  // The connection closed: it leaves the admission count now, memory when its last CQE is in.
  void closed(Connection* connection);
  // Visit the connection after this batch of completions (Connection::after_batch).
  void check_later(Connection* connection);
  // Runs `job` on the pool, then `done` on the ring's thread (the inbox's eventfd is polled
  // through the ring, so its wake-up is one more completion).
  void submit_work(std::function<void()> job, std::function<void()> done) {
    pool_.submit(std::move(job), inbox_, std::move(done));
  }

  void complete(Operation& op, const io_uring_cqe& cqe) override;

 private:
  enum Kind : uint8_t { kStop, kInbox, kDrain };

  void arm_inbox();
  void admit(int fd, Address peer);
  void after_batch();
  // Stops listening and asks every connection's host to drain; run() ends with the last one.
  void drain();
  void shut_down();

  Ring ring_;
  RecvBuffers buffers_;
  const ServerContext& context_;
  Admission admission_;
  std::vector<std::unique_ptr<Listener>> listeners_;  // the plain one, then implicit TLS
  bool multishot_recv_ = true;
  bool stopping_ = false;
  bool draining_ = false;
  Operation stop_op_{this, kStop};
  Operation drain_op_{this, kDrain};
  WorkPool pool_;
  std::shared_ptr<WorkInbox> inbox_ = std::make_shared<WorkInbox>();
  Operation inbox_op_{this, kInbox};
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
  std::vector<Connection*> later_;
};

}  // namespace nm::uring
