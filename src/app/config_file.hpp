#pragma once

#include <string>
#include <vector>

namespace nm {

// Turns a TOML config file into command-line arguments ("key = value" -> "--key value",
// "flag = true" -> "--flag", arrays -> the option repeated), to be parsed before the real
// arguments so that flags given on the command line win. Throws std::runtime_error on a file
// that is not valid TOML.
std::vector<std::string> config_file_arguments(const std::string& path);

// The value of "--config FILE" / "--config=FILE" in argv, or empty.
std::string find_config_argument(int argc, char** argv);

}  // namespace nm
