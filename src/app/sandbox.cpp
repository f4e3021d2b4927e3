#include "app/sandbox.hpp"

#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <ctime>
#include <system_error>

#include "net/fd.hpp"

namespace nm {
namespace {

// Debian 12's headers know Landlock ABI 2; the later rights are spelled out here.
constexpr uint64_t kTruncate = 1ULL << 14;  // ABI 3
constexpr uint64_t kIoctlDev = 1ULL << 15;  // ABI 5

constexpr uint64_t kFileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                 LANDLOCK_ACCESS_FS_READ_FILE | kTruncate | kIoctlDev;

uint64_t handled_rights(int abi) {
  uint64_t rights = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // ABI 1: bits 0..12
  if (abi >= 2) rights |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) rights |= kTruncate;
  if (abi >= 5) rights |= kIoctlDev;
  return rights;
}

std::system_error sys_error(const char* what) {
  return std::system_error(errno, std::generic_category(), what);
}

void allow(int ruleset, const std::filesystem::path& path, uint64_t rights, uint64_t handled) {
  Fd fd(::open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!fd) return;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return;
  // A rule on a file may only carry rights that apply to files.
  if (!S_ISDIR(st.st_mode)) rights &= kFileRights;
  landlock_path_beneath_attr attr{};
  attr.allowed_access = rights & handled;
  attr.parent_fd = fd.get();
  if (attr.allowed_access == 0) return;
  if (::syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &attr, 0) != 0) {
    throw sys_error("landlock_add_rule");
  }
}

}  // namespace

SandboxResult apply_sandbox(const SandboxRules& rules) {
  int abi = static_cast<int>(
      ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION));
  if (abi < 0) {
    if (errno == ENOSYS || errno == EOPNOTSUPP) return SandboxResult::kUnsupported;
    throw sys_error("landlock_create_ruleset");
  }
  uint64_t handled = handled_rights(abi);
  landlock_ruleset_attr attr{};
  attr.handled_access_fs = handled;
  Fd ruleset(static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0)));
  if (!ruleset) throw sys_error("landlock_create_ruleset");

  // Served roots: everything an FTP user can do (read, write, list, create, remove, rename
  // across folders, truncate); no execute, no devices, fifos, sockets or symlinks.
  const uint64_t root_rights = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                               LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR |
                               LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR |
                               LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_REFER | kTruncate;
  for (const auto& dir : rules.read_write_dirs) allow(ruleset.get(), dir, root_rights, handled);
  for (const auto& file : rules.read_files) {
    allow(ruleset.get(), file, LANDLOCK_ACCESS_FS_READ_FILE, handled);
  }
  allow(ruleset.get(), "/dev/null", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE,
        handled);
  allow(ruleset.get(), "/dev/urandom", LANDLOCK_ACCESS_FS_READ_FILE, handled);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizers' runtimes read /proc/self (maps, task) at exit and when they report.
  allow(ruleset.get(), "/proc", LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR,
        handled);
#endif
  for (const auto& file : rules.log_files) {
    allow(ruleset.get(), file, LANDLOCK_ACCESS_FS_WRITE_FILE, handled);
    auto dir = file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path();
    allow(ruleset.get(), dir, LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG, handled);
  }

  // Time zone data is read once here, while /etc is still reachable (xferlog's local times).
  ::tzset();
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw sys_error("PR_SET_NO_NEW_PRIVS");
  if (::syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0) {
    throw sys_error("landlock_restrict_self");
  }
  return SandboxResult::kApplied;
}

}  // namespace nm
