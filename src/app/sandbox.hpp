#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace nm {

// What the server may still touch once it serves. Everything else on the filesystem is denied
// (EACCES) by Landlock; the network is not restricted.
struct SandboxRules {
  std::vector<std::filesystem::path> read_write_dirs;  // the served roots
  std::vector<std::filesystem::path> read_files;       // the users file
  // Log files: the file may be appended to, and a new one created in its folder after logrotate
  // moved it (SIGHUP), but nothing there read, listed or removed.
  std::vector<std::filesystem::path> log_files;
};

enum class SandboxResult { kApplied, kUnsupported };

// PR_SET_NO_NEW_PRIVS, then a Landlock ruleset from the raw syscalls (no library) for this
// process and every process or thread it starts afterwards. Call it on the main thread before
// any other thread exists: Landlock restricts the calling thread only. kUnsupported when the
// kernel has no Landlock (or it is disabled); throws std::system_error on any other failure.
// Paths that do not exist are left out (a user's root created later stays unreachable).
SandboxResult apply_sandbox(const SandboxRules& rules);

}  // namespace nm
