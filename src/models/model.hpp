#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/fd.hpp"
#include "session/service.hpp"

namespace nm {

// What a model is, answered by the model itself (as Apache MPMs answer ap_mpm_query), so that
// --help, logs and the benchmark describe it without a table kept by hand.
struct ModelTraits {
  std::string_view name;
  std::string_view summary;    // one line for --help
  std::string_view cost;       // what one connection costs: a process, a thread, a descriptor...
  bool one_at_a_time = false;  // serves a single connection at once (per process)
  bool forks = false;
  bool threaded = false;
  bool event_driven = false;
};

struct ServerOptions {
  std::chrono::milliseconds idle_timeout{0};  // 0: never
  std::chrono::milliseconds data_timeout{std::chrono::seconds(60)};
  size_t max_clients = 0;  // 0: no limit
  size_t max_per_ip = 0;   // 0: no limit
  int backlog = 511;
  unsigned workers = 0;       // thread-pool, prefork, reactors; 0: the number of cores
  size_t queue_capacity = 0;  // thread-pool's queue of accepted connections; 0: 4 x workers
};

// Everything a model needs to serve: the bound listener, the protocol, the limits, and a
// descriptor that becomes readable when the server must stop (SIGINT / SIGTERM).
struct ServerContext {
  Fd listener;  // blocking, bound and listening
  Service* service = nullptr;
  ServerOptions options;
  int stop_fd = -1;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual const ModelTraits& traits() const = 0;
  // Why the model cannot run on this machine (io_uring disabled, say), or empty when it can.
  // Asked before the server announces itself, so a script never sees a port that is not served.
  virtual std::string unavailable() const { return {}; }
  // Serves until stop_fd becomes readable, then closes every connection and returns.
  // Throws std::runtime_error when the model cannot run here (io_uring disabled, say).
  virtual void run(ServerContext& context) = 0;
};

struct ModelEntry {
  ModelTraits traits;
  std::function<std::unique_ptr<Model>()> make;
};

// Every model, in the order --help lists them.
const std::vector<ModelEntry>& all_models();
std::unique_ptr<Model> make_model(std::string_view name);

}  // namespace nm
