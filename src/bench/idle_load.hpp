#pragma once

#include <cstdint>
#include <vector>

#include "bench/load_common.hpp"
#include "bench/proc_stats.hpp"
#include "net/fd.hpp"

namespace nm::bench {

// Connections opened and then left alone: nothing sent, nothing read. Owned by the thread that
// opened it (a mode's main thread); the load threads never see it. The descriptors close with it.
// The idle test checks each one answers afterwards; `echo --idle` keeps them silent beside the busy
// connections, so that the server's cost of watching them is all that changes.
class IdleCrowd {
 public:
  // Opens `count` connections at once and waits up to `timeout` seconds for them to connect.
  IdleCrowd(const Target& target, int count, double timeout);

  int opened() const { return static_cast<int>(fds_.size()); }
  double open_seconds() const { return open_seconds_; }
  std::vector<Fd>& fds() { return fds_; }
  // How many are still open now: a server that cannot watch a descriptor (select past
  // FD_SETSIZE) or that serves a fixed number of clients may have closed or reset the others.
  int still_open() const;
  // The machine's accept-queue overflows while the crowd opened, -1 if unreadable. A connection
  // the server's full accept queue dropped still looks connected here (SYN cookies) but is not
  // the server's to watch: above 0, the crowd the server holds is smaller than opened().
  int64_t listen_overflows() const { return listen_overflows_; }

 private:
  std::vector<Fd> fds_;  // connected ones only
  double open_seconds_ = 0;
  int64_t listen_overflows_ = -1;
};

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
