#pragma once

namespace nm {

// Routes SIGINT and SIGTERM to a pipe and returns its read end, which becomes readable once a
// stop was asked for; ignores SIGPIPE (a peer that went away is an error return, not a death).
int install_stop_signals();
// In a forked child: SIGINT / SIGTERM kill again, as for any process.
void restore_default_signals();

}  // namespace nm
