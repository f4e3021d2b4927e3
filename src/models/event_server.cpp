#include "models/event_server.hpp"

#include <spdlog/spdlog.h>

#include "models/event_connection.hpp"
#include "net/logfmt.hpp"
#include "net/socket.hpp"
#include "server/acceptor.hpp"

namespace nm {

class EventServer::ListenHandler final : public Handler {
 public:
  ListenHandler(EventServer& server, size_t index) : server_(server), index_(index) {}
  void on_ready(unsigned) override { server_.accept_ready(server_.listening_[index_]); }

 private:
  EventServer& server_;
  size_t index_;
};

class EventServer::StopHandler final : public Handler {
 public:
  explicit StopHandler(EventLoop& loop) : loop_(loop) {}
  void on_ready(unsigned) override { loop_.stop(); }

 private:
  EventLoop& loop_;
};

class EventServer::DrainHandler final : public Handler {
 public:
  explicit DrainHandler(EventServer& server) : server_(server) {}
  void on_ready(unsigned) override { server_.drain(); }

 private:
  EventServer& server_;
};

class EventServer::InboxHandler final : public Handler {
 public:
  explicit InboxHandler(WorkInbox& inbox) : inbox_(inbox) {}
  void on_ready(unsigned) override { inbox_.drain(); }

 private:
  WorkInbox& inbox_;
};

EventServer::EventServer(EventLoop& loop, const std::vector<int>& listeners,
                         const ServerContext& context, Admission& admission, WorkPool& pool)
    : loop_(loop),
      context_(context),
      admission_(admission),
      stop_handler_(std::make_unique<StopHandler>(loop)),
      drain_handler_(std::make_unique<DrainHandler>(*this)),
      pool_(pool),
      inbox_handler_(std::make_unique<InboxHandler>(*inbox_)),
      scratch_(std::make_unique<char[]>(kScratchSize)) {
  listening_.reserve(listeners.size());
  for (int fd : listeners) {
    listening_.push_back(
        {fd, Acceptor(fd), std::make_unique<ListenHandler>(*this, listening_.size())});
  }
}

EventServer::~EventServer() = default;

void EventServer::run() {
  bool watched = loop_.watch(context_.stop_fd, kReadable, stop_handler_.get()) &&
                 loop_.watch(inbox_->fd(), kReadable, inbox_handler_.get());
  if (context_.drain_fd >= 0) {
    watched = watched && loop_.watch(context_.drain_fd, kReadable, drain_handler_.get());
  }
  for (auto& l : listening_) watched = watched && loop_.watch(l.fd, kReadable, l.handler.get());
  if (!watched) throw std::runtime_error("cannot watch the listening socket");
  loop_.run();
  for (auto& l : listening_) loop_.unwatch(l.fd);
  loop_.unwatch(context_.drain_fd);
  loop_.unwatch(context_.stop_fd);
  loop_.unwatch(inbox_->fd());
  for (auto& [raw, connection] : connections_) {
    connection->shut();
    admission_.release(connection->peer());
  }
  connections_.clear();
  closed_.clear();
}

void EventServer::accept_ready(Listening& listening) {
  // Edge-triggered loops must take every pending connection now; level-triggered ones take a
  // batch and come back, so a flood of connects does not starve the clients already in.
  int budget = loop_.edge_triggered() ? INT32_MAX : 64;
  for (int i = 0; i < budget; ++i) {
    Address peer;
    int fd = listening.acceptor.accept(&peer, true);
    if (fd < 0) {
      if (is_descriptor_shortage(errno)) pause_accepting();
      return;
    }
    if (!admission_.admit(peer)) {
      spdlog::warn("event=refused peer={} reason=limit", peer.to_string());
      refuse_connection(fd, context_.service->refusal());
      continue;
    }
    auto connection = std::make_unique<EventConnection>(*this, Fd(fd));
    auto* raw = connection.get();
    connections_.emplace(raw, std::move(connection));
    bool opened = false;
    try {
      opened = raw->open(peer);
    } catch (const std::exception& e) {
      spdlog::error("event=connection-failed peer={} error={}", peer.to_string(),
                    logfmt_value(e.what()));
    }
    if (!opened) {
      spdlog::error("event=watch-failed peer={} fd={} backend={}", peer.to_string(), fd,
                    loop_.backend());
      raw->shut();
      close(raw);
    }
  }
}

void EventServer::pause_accepting() {
  for (auto& l : listening_) loop_.unwatch(l.fd);
  loop_.run_after(std::chrono::milliseconds(100), [this] {
    if (draining_) return;
    for (auto& l : listening_) loop_.watch(l.fd, kReadable, l.handler.get());
  });
}

void EventServer::drain() {
  if (draining_) return;
  draining_ = true;
  // The pipe stays readable: a level-triggered loop would report it again and again.
  loop_.unwatch(context_.drain_fd);
  for (auto& l : listening_) {
    loop_.unwatch(l.fd);
    stop_listening(l.fd);
  }
  spdlog::info("event=drain listeners=closed connections={}", connections_.size());
  // A host may close its connection at once (an idle one): close() then erases it from the map.
  std::vector<EventConnection*> open;
  open.reserve(connections_.size());
  for (auto& [raw, connection] : connections_) open.push_back(raw);
  for (auto* connection : open) connection->drain();
  if (connections_.empty()) loop_.stop();
}

void EventServer::close(EventConnection* connection) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  admission_.release(connection->peer());
  // The connection may be the one running right now: free it after this dispatch.
  if (closed_.empty()) {
    loop_.run_after(std::chrono::milliseconds(0), [this] { closed_.clear(); });
  }
  closed_.push_back(std::move(it->second));
  connections_.erase(it);
  if (draining_ && connections_.empty()) loop_.stop();
}

}  // namespace nm
