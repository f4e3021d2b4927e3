#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/context.hpp"

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
