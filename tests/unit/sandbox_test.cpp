#include "app/sandbox.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/landlock.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

namespace nm {
namespace {

namespace fs = std::filesystem;

bool kernel_has_landlock() {
  return ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION) > 0;
}

// Exit codes of the sandboxed child: 0 when everything behaved, else which check failed.
int sandboxed_checks(const fs::path& base) {
  SandboxRules rules;
  rules.read_write_dirs.push_back(base / "root");
  rules.read_files.push_back(base / "users");
  if (apply_sandbox(rules) != SandboxResult::kApplied) return 10;
  // Inside the root: read, write, create, list, rename, remove.
  int fd = ::open((base / "root" / "in.txt").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 11;
  ::close(fd);
  fd = ::open((base / "root" / "sub" / "new.txt").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 || ::write(fd, "x", 1) != 1) return 12;
  ::close(fd);
  if (::rename((base / "root" / "sub" / "new.txt").c_str(), (base / "root" / "moved").c_str()) !=
      0) {
    return 13;
  }
  if (::unlink((base / "root" / "moved").c_str()) != 0) return 14;
  // The users file may be read, not written.
  fd = ::open((base / "users").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 15;
  ::close(fd);
  if (::open((base / "users").c_str(), O_WRONLY | O_CLOEXEC) >= 0 || errno != EACCES) return 16;
  // Outside: a file next to the root, and /etc.
  if (::open((base / "outside.txt").c_str(), O_RDONLY | O_CLOEXEC) >= 0 || errno != EACCES) {
    return 17;
  }
  if (::open("/etc/hostname", O_RDONLY | O_CLOEXEC) >= 0 || errno != EACCES) return 18;
  if (::open((base / "created.txt").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644) >= 0 ||
      errno != EACCES) {
    return 19;
  }
  // What the acceptor reopens when descriptors run out.
  fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 20;
  ::close(fd);
  return 0;
}

TEST(Sandbox, LimitsTheFilesystemToTheRoots) {
  if (!kernel_has_landlock()) GTEST_SKIP() << "the kernel has no Landlock";
  fs::path base = fs::temp_directory_path() / ("sandbox_test." + std::to_string(::getpid()));
  fs::remove_all(base);
  fs::create_directories(base / "root" / "sub");
  std::ofstream(base / "root" / "in.txt") << "inside";
  std::ofstream(base / "outside.txt") << "outside";
  std::ofstream(base / "users") << "alice:x:/srv:r\n";

  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(sandboxed_checks(base));
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "check " << WEXITSTATUS(status) << " failed";
  // The parent is not restricted.
  EXPECT_TRUE(std::ifstream(base / "outside.txt").good());
  fs::remove_all(base);
}

}  // namespace
}  // namespace nm
