#include "app/config_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace nm {
namespace {

std::string write_config(const std::string& text) {
  auto path = std::filesystem::temp_directory_path() /
              ("config_file_test." + std::to_string(::getpid()) + ".toml");
  std::ofstream(path) << text;
  return path.string();
}

TEST(ConfigFile, UnknownKeyNamesItsLine) {
  auto path = write_config("model = \"epoll\"\n\nbogus-key = 3\n");
  try {
    read_config_file(path, {"model", "listen"});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("line 3: unknown key 'bogus-key'"), std::string::npos)
        << e.what();
  }
  std::filesystem::remove(path);
}

TEST(ConfigFile, SyntaxErrorNamesItsLine) {
  auto path = write_config("model = \"epoll\"\nlisten = \n");
  try {
    read_config_file(path, {});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

TEST(ConfigFile, ErrorContextFindsTheKey) {
  auto path = write_config("user = \"a:b\"\nusers = \"/nonexistent\"\nidle-timeout = \"x\"\n");
  auto config = read_config_file(path, {"user", "users", "idle-timeout"});
  EXPECT_EQ(config.args.size(), 6u);
  auto where = config_error_context(path, config, "--idle-timeout: Value x could not be converted");
  EXPECT_NE(where.find("line 3: key idle-timeout"), std::string::npos) << where;
  where = config_error_context(path, config, "--users: File does not exist");
  EXPECT_NE(where.find("line 2: key users"), std::string::npos) << where;
  EXPECT_EQ(config_error_context(path, config, "--model: bad"), "");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace nm
