#include "app/commands.hpp"

namespace nm {

// Placeholder until this command lands.
void add_passwd_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("passwd",
                                 "print a users-file line with a hashed password (not built yet)");
  cmd->callback([exit_code] { *exit_code = 1; });
}

}  // namespace nm
