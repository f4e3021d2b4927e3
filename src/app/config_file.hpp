#pragma once

#include <set>
#include <string>
#include <vector>

namespace nm {

// Turns a TOML config file into command-line arguments ("key = value" -> "--key value",
// "flag = true" -> "--flag", arrays -> the option repeated), to be parsed before the real
// arguments so that flags given on the command line win. Throws std::runtime_error on a file
// that is not valid TOML.
std::vector<std::string> config_file_arguments(const std::string& path);

// Where each key of a config file was, so that an error about an option names its line.
struct ConfigKey {
  std::string key;
  int line = 0;
};
struct ConfigArguments {
  std::vector<std::string> args;
  std::vector<ConfigKey> keys;
};
// As config_file_arguments(), and a key that is not in `known` (the long option names of serve)
// throws "config FILE line N: unknown key 'KEY'".
ConfigArguments read_config_file(const std::string& path, const std::set<std::string>& known);
// "config FILE line N: key KEY: MESSAGE" when the CLI11 error `message` is about an option
// that came from the file, else empty.
std::string config_error_context(const std::string& path, const ConfigArguments& config,
                                 const std::string& message);

// The value of "--config FILE" / "--config=FILE" in argv, or empty.
std::string find_config_argument(int argc, char** argv);

}  // namespace nm
