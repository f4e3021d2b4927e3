#include "app/config_file.hpp"

#include <toml++/toml.h>
#include <cctype>
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

ConfigArguments read_config_file(const std::string& path, const std::set<std::string>& known) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw std::runtime_error("config " + path + " line " + std::to_string(e.source().begin.line) +
                             ": " + std::string(e.description()));
  }
  ConfigArguments config;
  auto& args = config.args;
  for (auto&& [key, node] : table) {
    int line = static_cast<int>(node.source().begin.line);
    std::string where = "config " + path + " line " + std::to_string(line) + ": ";
    if (!known.empty() && !known.count(std::string(key.str()))) {
      throw std::runtime_error(where + "unknown key '" + std::string(key.str()) + "'");
    }
    config.keys.push_back({std::string(key.str()), line});
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
      throw std::runtime_error(where + "key " + std::string(key.str()) + ": " + e.what());
    }
  }
  return config;
}

std::vector<std::string> config_file_arguments(const std::string& path) {
  return read_config_file(path, {}).args;
}

std::string config_error_context(const std::string& path, const ConfigArguments& config,
                                 const std::string& message) {
  for (const auto& [key, line] : config.keys) {
    std::string option = "--" + key;
    auto at = message.find(option);
    // The whole option name, not a prefix of a longer one (--user in --users).
    while (at != std::string::npos) {
      size_t end = at + option.size();
      if (end == message.size() ||
          !(std::isalnum(static_cast<unsigned char>(message[end])) || message[end] == '-')) {
        return "config " + path + " line " + std::to_string(line) + ": key " + key + ": " + message;
      }
      at = message.find(option, end);
    }
  }
  return {};
}

std::string find_config_argument(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--config") == 0 && i + 1 < argc) return argv[i + 1];
    if (std::strncmp(argv[i], "--config=", 9) == 0) return argv[i] + 9;
  }
  return {};
}

}  // namespace nm
