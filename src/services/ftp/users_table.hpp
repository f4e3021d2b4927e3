#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include "services/ftp/ftp_config.hpp"

namespace nm {

// The users of a --users file, read again after a SIGHUP. The signal only bumps
// reload_generation() (net/signals.hpp), as it does for the log files; the first lookup after it
// reads the file. So every process reloads its own copy (fork's and prefork's children too), no
// thread waits on the file, and a file that no longer parses keeps the users read before it and
// logs an error. Sessions copy their root and rights at login: a reload never changes a session
// already logged in, nor ends it. Thread-safe.
class UsersTable {
 public:
  // Reads the file now; throws std::runtime_error as load_users_file() does.
  explicit UsersTable(std::filesystem::path path);

  // The users as of the latest SIGHUP (re-read first if one arrived since the last call).
  std::shared_ptr<const std::vector<FtpUser>> current();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::mutex mutex_;
  std::shared_ptr<const std::vector<FtpUser>> users_;
  unsigned generation_;
};

}  // namespace nm
