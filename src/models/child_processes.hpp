#pragma once

#include <sys/types.h>

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

  // Forks; the child runs `body` with default signal handling and exits with status 0.
  // Returns the child's pid, or -1 with errno set.
  pid_t spawn(const std::function<void()>& body);
  // Readable when a child may have exited.
  int exit_fd() const { return exit_read_.get(); }
  // Collects every exited child; returns their pids.
  std::vector<pid_t> reap();
  size_t count() const { return pids_.size(); }
  // SIGTERM to every child, then waits; SIGKILL for any still there after the grace time.
  void stop_all();

 private:
  Fd exit_read_;
  std::set<pid_t> pids_;
};

}  // namespace nm
