#pragma once

#include "client/shell.hpp"

namespace nm::client {

// The interactive prompt: libedit line editing, history kept in ~/.netmodels_ftp_history, tab
// completion of command names and remote names. Returns the exit status.
int run_interactive(Shell& shell);

}  // namespace nm::client
