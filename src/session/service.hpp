#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "session/session.hpp"

namespace nm {

// A protocol: makes one Session per connection. open() is called from any thread, concurrently.
class Service {
 public:
  virtual ~Service() = default;
  virtual std::string_view name() const = 0;
  // `info` outlives the session (its host owns both), so a session may keep a reference to it.
  virtual std::unique_ptr<Session> open(const ConnectionInfo& info) = 0;
  // Sent to a connection refused for load (--max-clients, --max-per-ip) before it is closed.
  virtual std::string_view refusal() const { return {}; }
  // Sent to a connection accepted but never served when the server stops (thread-pool's queue).
  virtual std::string_view shutdown_notice() const { return {}; }
};

}  // namespace nm
