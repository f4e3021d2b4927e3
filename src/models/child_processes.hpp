#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <set>
#include <vector>

#include "net/fd.hpp"

namespace nm {

// The children of a forking model. SIGCHLD is turned into a readable pipe so that the parent's
// accept loop wakes and reaps at once: no zombie lingers, and no child outlives stop_all().
// One instance per process.
class ChildProcesses {
 public:
  ChildProcesses();
  ~ChildProcesses();

  // Forks; the child runs `body` and exits with status 0. The child gets a stop pipe of its own
  // (install_stop_signals), passed to `body` to use as its ServerContext::stop_fd: SIGTERM from
  // stop_all() then ends its sessions the way every model stops (temporary uploads removed, the
  // session logged), where default handling would kill it in the middle of them.
  // Returns the child's pid, or -1 with errno set.
  pid_t spawn(const std::function<void(int stop_fd)>& body);
  // Readable when a child may have exited.
  int exit_fd() const { return exit_read_.get(); }
  // Collects every exited child; returns their pids.
  std::vector<pid_t> reap();
  size_t count() const { return pids_.size(); }
  // SIGHUP reached this process (systemctl reload signals the main pid only): pass it on to
  // every child, so long-lived workers reopen their logs and reload the TLS certificate too.
  // Call it after every wake-up; it does something only when a new SIGHUP came.
  void forward_reload();
  // SIGTERM to every child, then waits; SIGKILL, the last resort, for any still there after
  // kStopGrace.
  void stop_all();
  static constexpr std::chrono::seconds kStopGrace{5};

 private:
  Fd exit_read_;
  std::set<pid_t> pids_;
  unsigned reload_seen_;
};

}  // namespace nm
