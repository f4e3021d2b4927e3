#include "bench/load_common.hpp"

#include <algorithm>
#include <iostream>
#include <thread>

namespace nm::bench {

int thread_count(const Target& target, int connections) {
  int threads =
      target.threads > 0 ? target.threads : static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(threads, 1, std::max(connections, 1));
}

void progress(const std::string& line) {
  std::cerr << "bench: " << line << std::endl;
}

}  // namespace nm::bench
