#include "app/commands.hpp"

namespace nm {

// Placeholder until this command lands.
void add_ftp_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("ftp", "the FTP client (not built yet)");
  cmd->callback([exit_code] { *exit_code = 1; });
}

}  // namespace nm
