#include "server/context.hpp"

#include <algorithm>
#include <thread>

namespace nm {

unsigned worker_count(const ServerOptions& options) {
  return options.workers ? options.workers : std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace nm
