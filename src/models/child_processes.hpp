#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <set>
#include <vector>

#include "net/fd.hpp"
#include "net/signals.hpp"

namespace nm {

// The children of a forking model. SIGCHLD is turned into a readable pipe so that the parent's
// accept loop wakes and reaps at once: no zombie lingers, and no child outlives stop_all().
// One instance per process.
class ChildProcesses {
 public:
  ChildProcesses();
  ~ChildProcesses();

  // Forks; the child runs `body` and exits with status 0. The child gets stop and drain pipes
  // of its own (install_stop_signals), passed to `body` to use as its ServerContext's: SIGTERM
  // from drain() then drains it, and SIGINT from stop_all() ends its sessions the way every
  // model stops (temporary uploads removed, the session logged), where default handling would kill
  // it in the middle of them. Returns the child's pid, or -1 with errno set.
  pid_t spawn(const std::function<void(const StopSignals& signals)>& body);
  // Readable when a child may have exited.
  int exit_fd() const { return exit_read_.get(); }
  // Collects every exited child; returns their pids.
  std::vector<pid_t> reap();
  size_t count() const { return pids_.size(); }
  // SIGHUP reached this process (systemctl reload signals the main pid only): pass it on to
  // every child, so long-lived workers reopen their logs and reload the TLS certificate too.
  // Call it after every wake-up; it does something only when a new SIGHUP came.
  void forward_reload();
  // The server drains (returns at once if `stop_fd` is readable already): SIGTERM (the
  // children drain too), then waits until every child has exited or `stop_fd` is readable (the
  // drain's timeout, a second SIGTERM); then stop_all() ends what is left. `on_exit` gets each
  // child reaped meanwhile.
  void drain(int stop_fd, const std::function<void(pid_t)>& on_exit = {});
  // SIGINT to every child (a stop, never a drain, whatever SIGTERMs came before), then waits;
  // SIGKILL, the last resort, for any still there after kStopGrace.
  void stop_all();
  static constexpr std::chrono::seconds kStopGrace{5};

 private:
  Fd exit_read_;
  std::set<pid_t> pids_;
  unsigned reload_seen_;
};

}  // namespace nm
