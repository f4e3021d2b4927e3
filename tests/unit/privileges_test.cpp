#include "app/privileges.hpp"

#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace nm {
namespace {

TEST(RunAs, ResolvesNamesAndNumbers) {
  const passwd* nobody = getpwnam("nobody");
  if (nobody == nullptr) GTEST_SKIP() << "no user nobody here";
  auto target = resolve_run_as("nobody");
  EXPECT_EQ(target.uid, nobody->pw_uid);
  EXPECT_EQ(target.gid, nobody->pw_gid);
  EXPECT_FALSE(target.explicit_group);
  auto numeric = resolve_run_as(std::to_string(nobody->pw_uid) + ":0");
  EXPECT_EQ(numeric.user, "nobody");
  EXPECT_EQ(numeric.gid, 0u);
  EXPECT_TRUE(numeric.explicit_group);
}

TEST(RunAs, RefusesUnknownsAndRoot) {
  EXPECT_THROW(resolve_run_as("no-such-user-netmodels"), std::runtime_error);
  EXPECT_THROW(resolve_run_as("nobody:no-such-group-netmodels"), std::runtime_error);
  EXPECT_THROW(resolve_run_as("root"), std::runtime_error);
  EXPECT_THROW(resolve_run_as(":wheel"), std::runtime_error);
}

TEST(RunAs, DropsForGood) {
  if (::geteuid() != 0) GTEST_SKIP() << "dropping privileges needs root";
  if (getpwnam("nobody") == nullptr) GTEST_SKIP() << "no user nobody here";
  auto target = resolve_run_as("nobody");
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      drop_privileges(target);
    } catch (...) {
      ::_exit(10);
    }
    if (::getuid() != target.uid || ::geteuid() != target.uid) ::_exit(11);
    if (::getgid() != target.gid || ::getegid() != target.gid) ::_exit(12);
    if (::setuid(0) == 0 || ::seteuid(0) == 0) ::_exit(13);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace nm
