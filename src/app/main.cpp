#include <CLI/CLI.hpp>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "app/commands.hpp"
#include "app/config_file.hpp"

namespace {

// `serve --config FILE`: the file's settings go right after "serve", before the command line's
// own arguments, so that a flag given on the command line overrides the file.
std::vector<std::string> arguments_with_config(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  std::string config = nm::find_config_argument(argc, argv);
  if (config.empty()) return args;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "serve") {
      auto extra = nm::config_file_arguments(config);
      args.insert(args.begin() + static_cast<long>(i) + 1, extra.begin(), extra.end());
      break;
    }
  }
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "netmodels: concurrent network server models, an FTP server and client, and a benchmark"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "netmodels 0.1.0");
  int exit_code = 0;
  nm::add_serve_command(app, &exit_code);
  nm::add_ftp_command(app, &exit_code);
  nm::add_bench_command(app, &exit_code);
  nm::add_passwd_command(app, &exit_code);
  try {
    auto args = arguments_with_config(argc, argv);
    std::vector<char*> words;
    for (auto& a : args) words.push_back(a.data());
    app.parse(static_cast<int>(words.size()), words.data());
  } catch (const CLI::ParseError& e) {
    // Usage errors exit with 2, as the shell's builtins do.
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  } catch (const std::exception& e) {
    std::cerr << "netmodels: " << e.what() << "\n";
    return 2;
  }
  return exit_code;
}
