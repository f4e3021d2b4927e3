#pragma once

namespace nm {

// Routes SIGINT and SIGTERM to a pipe and returns its read end, which becomes readable once a
// stop was asked for; ignores SIGPIPE (a peer that went away is an error return, not a death).
int install_stop_signals();
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
