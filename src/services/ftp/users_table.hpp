#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "services/ftp/ftp_config.hpp"

namespace nm {

// The users of a --users file, read again after a SIGHUP. The signal only bumps
// reload_generation() (net/signals.hpp), as it does for the log files; the first lookup after it
// reads the file. So every process reloads its own copy (fork's and prefork's children too) and
// no thread waits on the file. A file that no longer parses keeps the last one that did and logs
// an error. Sessions copy their root and rights at login: a reload never changes a session
// already logged in, nor ends it. Thread-safe.
class UsersTable {
 public:
  // Reads the file now; throws std::runtime_error as load_users_file() does. Call it before the
  // model forks: the last good file's text is kept in memory shared with the children.
  explicit UsersTable(std::filesystem::path path);
  ~UsersTable();
  UsersTable(const UsersTable&) = delete;
  UsersTable& operator=(const UsersTable&) = delete;

  // The users as of the latest SIGHUP (re-read first if one arrived since the last call).
  std::shared_ptr<const std::vector<FtpUser>> current();
  const std::filesystem::path& path() const { return path_; }

 private:
  struct Shared;
  std::shared_ptr<const std::vector<FtpUser>> parse(const std::string& text) const;
  void publish(const std::string& text);
  std::shared_ptr<const std::vector<FtpUser>> last_good() const;

  std::filesystem::path path_;
  std::mutex mutex_;
  std::shared_ptr<const std::vector<FtpUser>> users_;
  unsigned generation_;
  Shared* shared_ = nullptr;  // MAP_SHARED, so fork()ed processes see each other's reloads
};

}  // namespace nm
