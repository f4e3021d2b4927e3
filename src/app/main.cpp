#include <CLI/CLI.hpp>
#include <cstring>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "app/commands.hpp"
#include "app/config_file.hpp"

namespace {

// The long option names of `serve`: the keys a config file may hold.
std::set<std::string> serve_keys(CLI::App& app) {
  std::set<std::string> keys;
  for (const auto* option : app.get_subcommand("serve")->get_options()) {
    for (const auto& name : option->get_lnames()) keys.insert(name);
  }
  return keys;
}

// `serve --config FILE`: the file's settings go right after "serve", before the command line's
// own arguments, so that a flag given on the command line overrides the file.
std::vector<std::string> arguments_with_config(int argc, char** argv, CLI::App& app,
                                               nm::ConfigArguments* config) {
  std::vector<std::string> args(argv, argv + argc);
  std::string path = nm::find_config_argument(argc, argv);
  if (path.empty()) return args;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "serve") {
      *config = nm::read_config_file(path, serve_keys(app));
      args.insert(args.begin() + static_cast<long>(i) + 1, config->args.begin(),
                  config->args.end());
      break;
    }
  }
  return args;
}

#ifndef NETMODELS_VERSION
#define NETMODELS_VERSION "0.0.0"
#endif
#ifndef NETMODELS_GIT_COMMIT
#define NETMODELS_GIT_COMMIT "unknown"
#endif

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "netmodels: concurrent network server models, an FTP server and client, and a benchmark"};
  app.require_subcommand(1);
  // cmake/Version.cmake sets both at configure time.
  app.set_version_flag("--version",
                       "netmodels " NETMODELS_VERSION " (git " NETMODELS_GIT_COMMIT ")");
  // Every subcommand's options at once: the source help2man makes netmodels(1) from.
  app.set_help_all_flag("--help-all", "Print the help of every subcommand and exit");
  app.footer("Run 'netmodels SUBCOMMAND --help' for a subcommand's options.");
  int exit_code = 0;
  nm::add_serve_command(app, &exit_code);
  nm::add_ftp_command(app, &exit_code);
  nm::add_bench_command(app, &exit_code);
  nm::add_passwd_command(app, &exit_code);
  nm::add_sweep_command(app, &exit_code);
  nm::ConfigArguments config;
  try {
    auto args = arguments_with_config(argc, argv, app, &config);
    std::vector<char*> words;
    for (auto& a : args) words.push_back(a.data());
    app.parse(static_cast<int>(words.size()), words.data());
  } catch (const CLI::ParseError& e) {
    // A bad value from the config file: name the file, the key and its line.
    if (auto where =
            nm::config_error_context(nm::find_config_argument(argc, argv), config, e.what());
        !where.empty()) {
      std::cerr << "netmodels: " << where << "\n";
      return 2;
    }
    // Usage errors exit with 2, as the shell's builtins do.
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const std::exception& e) {
    auto where = nm::config_error_context(nm::find_config_argument(argc, argv), config, e.what());
    std::cerr << "netmodels: " << (where.empty() ? std::string(e.what()) : where) << "\n";
    return 2;
  }
  return exit_code;
}
