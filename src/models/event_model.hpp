#pragma once

#include <functional>
#include <memory>

#include "models/model.hpp"
#include "reactor/poller.hpp"

namespace nm {

// A single-threaded event-loop model over the Poller that `make_poller` builds: what select,
// poll, epoll and epoll-et share, so each of those files only says which backend it is.
class EventModel : public Model {
 public:
  explicit EventModel(std::function<std::unique_ptr<Poller>()> make_poller)
      : make_poller_(std::move(make_poller)) {}
  void run(ServerContext& context) override;

 private:
  std::function<std::unique_ptr<Poller>()> make_poller_;
};

}  // namespace nm
