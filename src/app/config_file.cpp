#include "app/config_file.hpp"

#include <toml++/toml.h>
#include <cstring>
#include <stdexcept>

namespace nm {
namespace {

// One scalar TOML value as a command-line word; false for booleans means "leave the flag out".
bool scalar_word(const toml::node& node, std::string* word) {
  if (auto s = node.value<std::string>()) {
    *word = *s;
  } else if (node.is_floating_point()) {
    // toml++'s value<int64_t>() casts a float to int64 before it checks the range (undefined
    // behaviour for 1e30): the same answer, whole numbers as integers, decided here.
    double d = *node.value<double>();
    bool whole = d >= -9223372036854775808.0 && d < 9223372036854775808.0 &&
                 d == static_cast<double>(static_cast<int64_t>(d));
    *word = whole ? std::to_string(static_cast<int64_t>(d)) : std::to_string(d);
  } else if (auto i = node.value<int64_t>()) {
    *word = std::to_string(*i);
  } else if (auto d = node.value<double>()) {
    *word = std::to_string(*d);
  } else {
    throw std::runtime_error("unsupported value type");
  }
  return true;
}

}  // namespace

std::vector<std::string> config_file_arguments(const std::string& path) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error("config " + path + ": " + std::string(e.description()));
  }
  std::vector<std::string> args;
  for (auto&& [key, node] : table) {
    std::string option = "--" + std::string(key.str());
    try {
      if (auto flag = node.value<bool>(); flag && node.is_boolean()) {
        if (*flag) args.push_back(option);
      } else if (auto* array = node.as_array()) {
        for (auto&& item : *array) {
          std::string word;
          scalar_word(item, &word);
          args.push_back(option);
          args.push_back(word);
        }
      } else {
        std::string word;
        scalar_word(node, &word);
        args.push_back(option);
        args.push_back(word);
      }
    } catch (const std::runtime_error& e) {
      throw std::runtime_error("config " + path + ": key " + std::string(key.str()) + ": " +
                               e.what());
    }
  }
  return args;
}

std::string find_config_argument(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--config") == 0 && i + 1 < argc) return argv[i + 1];
    if (std::strncmp(argv[i], "--config=", 9) == 0) return argv[i] + 9;
  }
  return {};
}

}  // namespace nm
