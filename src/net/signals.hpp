#pragma once

#include <chrono>

namespace nm {

// The two descriptors a server watches to end: each becomes readable once, and stays so.
struct StopSignals {
  int stop_fd = -1;   // stop now: close every connection (SIGINT, a second SIGTERM, the timeout)
  int drain_fd = -1;  // drain: stop listening, let running transfers end (the first SIGTERM)
};

// How long a drain may last before it becomes a stop; 0: SIGTERM stops at once, as SIGINT
// does. Set before install_stop_signals(); forked children inherit it.
void set_drain_timeout(std::chrono::milliseconds timeout);

// Routes SIGINT, SIGTERM and the drain's timer (SIGALRM) to two pipes and returns their read
// ends; ignores SIGPIPE (a peer that went away is an error return, not a death). The first
// SIGTERM makes drain_fd readable and arms the timer (setitimer), whose expiry, like a second
// SIGTERM or any SIGINT, makes stop_fd readable: the timeout needs no thread and no loop of its
// own, and every wait that watches stop_fd already honours it.
StopSignals install_stop_signals();
// True once `fd` (stop_fd or drain_fd) has been signalled; -1 never is. Does not wait.
bool signalled(int fd);
// In a forked child: SIGINT / SIGTERM kill again, as for any process.
void restore_default_signals();

// SIGHUP means "reopen your log files" (logrotate, systemctl reload): the handler only bumps a
// counter, and every log writer compares it with the value it opened its file at before its
// next line. No thread and no pipe, so it works the same in forked children (which keep the
// handler) and never stops a model.
void install_reload_signal();
// How many SIGHUPs arrived so far.
unsigned reload_generation();

}  // namespace nm
