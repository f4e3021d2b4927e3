#pragma once

#include <cstdint>

#include "bench/load_common.hpp"
#include "bench/proc_stats.hpp"

namespace nm::bench {

enum class IdleProtocol { kEcho, kFtp };

struct IdleOptions {
  int connections = 1000;
  IdleProtocol protocol = IdleProtocol::kEcho;
  double timeout = 30;  // for opening them all, and again for checking them all
  double settle = 0.5;  // seconds between the check and the memory reading
};

struct IdleResult {
  int opened = 0;    // connected (ftp: and logged in)
  int answered = 0;  // answered the check: echo a byte back, ftp NOOP -> 200
  double open_seconds = 0;
  TreeStats before, after;  // the server, when --server-pid is given
  uint64_t failures = 0;    // connections asked for minus those answered
};

// Opens N connections, leaves them idle, checks each is still served, and reads what the server
// process tree holds in memory before and after.
IdleResult run_idle(const Target& target, const IdleOptions& options);

}  // namespace nm::bench
