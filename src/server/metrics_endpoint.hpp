#pragma once

#include <thread>

#include "net/address.hpp"
#include "net/fd.hpp"
#include "session/metrics.hpp"

namespace nm {

// --metrics-listen: answers GET /metrics with render_metrics(), one short connection at a time,
// on a thread of its own in the process that runs the model (for fork and prefork, the parent:
// the counters are shared with the children, see session/metrics.hpp). A scrape is small and
// rare, so one blocking thread with bounded waits is all it needs; a slow or silent client is
// dropped after kRequestTimeout. The thread takes no lock another thread may hold across a fork
// (it does not log), so fork's and prefork's children are never forked mid-lock by it.
// Owned by serve; start() and the destructor run on the main thread.
class MetricsEndpoint {
 public:
  static constexpr int kRequestTimeoutMs = 2000;

  // `listener` is bound and listening.
  MetricsEndpoint(Fd listener, BuildInfo build);
  ~MetricsEndpoint();  // stops the thread
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  void start();
  Address address() const { return local_address(listener_.get()); }

 private:
  void run();
  void answer(int fd);

  Fd listener_;
  Fd wake_;  // eventfd: the destructor's signal to stop
  BuildInfo build_;
  std::thread thread_;
};

// The HTTP answer to one request (its bytes up to the blank line): 200 with the metrics for
// GET /metrics, 404 for another path, 405 for another method, 400 for what is not HTTP.
std::string metrics_response(std::string_view request, const BuildInfo& build);

}  // namespace nm
