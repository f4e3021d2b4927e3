#pragma once

#include <CLI/CLI.hpp>

namespace nm {

// Each subcommand adds itself to the application and sets `*exit_code` when it runs.
void add_serve_command(CLI::App& app, int* exit_code);
void add_ftp_command(CLI::App& app, int* exit_code);     // app/ftp_command.cpp, runs client/
void add_bench_command(CLI::App& app, int* exit_code);   // app/bench_command.cpp, runs bench/
void add_passwd_command(CLI::App& app, int* exit_code);  // app/passwd_command.cpp
void add_sweep_command(CLI::App& app, int* exit_code);   // app/sweep_command.cpp

}  // namespace nm
