#include "app/commands.hpp"

namespace nm {

// Placeholder until this command lands.
void add_bench_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("bench", "the load generator (not built yet)");
  cmd->callback([exit_code] { *exit_code = 1; });
}

}  // namespace nm
