// --user NAME:PASSWORD[:ROOT:RIGHTS] and the --users file re-read after a SIGHUP.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include "ftp_fake_model.hpp"
#include "net/signals.hpp"
#include "services/ftp/auth.hpp"
#include "services/ftp/users_file.hpp"
#include "services/ftp/users_table.hpp"

namespace nm::ftp {
namespace {

using testing::FtpSessionTest;
using testing::TempDir;

TEST(FtpUserOption, NameAndPasswordGetEveryRightAtTheDefaultRoot) {
  auto user = parse_user_option("alice:secret", "/srv/ftp");
  EXPECT_EQ(user.name, "alice");
  EXPECT_EQ(user.plain_password, "secret");
  EXPECT_EQ(user.root, "/srv/ftp");
  EXPECT_TRUE(user.rights.read && user.rights.write && user.rights.remove && user.rights.rename &&
              user.rights.mkdir);
  EXPECT_EQ(parse_user_option("bob:", "/r").plain_password, "");
  EXPECT_EQ(parse_user_option("bob:a:b", "/r").plain_password, "a:b");  // one ':' is password
}

TEST(FtpUserOption, RootAndRights) {
  auto user = parse_user_option("carol:pw:/srv/carol:rm", "/srv/ftp");
  EXPECT_EQ(user.name, "carol");
  EXPECT_EQ(user.plain_password, "pw");
  EXPECT_EQ(user.root, "/srv/carol");
  EXPECT_TRUE(user.rights.read && user.rights.mkdir);
  EXPECT_FALSE(user.rights.write || user.rights.remove || user.rights.rename);
  EXPECT_EQ(parse_user_option("d:pw:/a:b:c:r", "/r").root, "/a:b:c");  // ROOT may hold ':'
  auto none = parse_user_option("e:pw:rel/dir:-", "/r");
  EXPECT_EQ(none.root, "rel/dir");
  EXPECT_FALSE(none.rights.read || none.rights.write);
}

TEST(FtpUserOption, Errors) {
  for (const char* spec : {"", "alice", ":pw", "a:pw::r", "a:pw:/r:", "a:pw:/r:rwx", "a:b:c:x"}) {
    EXPECT_THROW(parse_user_option(spec, "/r"), std::runtime_error) << spec;
  }
}

std::string sha512(const char* password) {
  auto hashed = hash_password(password, true);
  EXPECT_TRUE(hashed.has_value());
  return hashed.value_or("");
}

class FtpUsersReloadTest : public FtpSessionTest {
 protected:
  void SetUp() override {
    FtpSessionTest::SetUp();
    install_reload_signal();
    config.login_failure_delay_ms = 0;
    write_users({"bob"});
    config.users_file = std::make_shared<UsersTable>(users_path());
  }
  void TearDown() override { std::signal(SIGHUP, SIG_DFL); }

  std::filesystem::path users_path() const { return files / "users"; }
  void write_users(const std::vector<std::string>& names) {
    std::string text;
    for (const auto& name : names) text += name + ":" + hash_ + ":" + dir.path().string() + ":r\n";
    files.write("users", text);
  }
  std::shared_ptr<UsersTable> table() { return config.users_file; }

  TempDir files;
  std::string hash_ = sha512("pw");
};

TEST_F(FtpUsersReloadTest, NothingChangesWithoutASighup) {
  write_users({"carol"});
  EXPECT_TRUE(find_user(config, "bob").has_value());
  EXPECT_FALSE(find_user(config, "carol").has_value());
}

TEST_F(FtpUsersReloadTest, SighupAddsAndRemovesUsers) {
  write_users({"carol"});
  std::raise(SIGHUP);
  EXPECT_FALSE(find_user(config, "bob").has_value());
  ASSERT_TRUE(find_user(config, "carol").has_value());
  EXPECT_TRUE(find_user(config, "carol")->rights.read);
  EXPECT_FALSE(find_user(config, "carol")->rights.write);
  EXPECT_TRUE(find_user(config, "alice").has_value());  // --user users stay
}

TEST_F(FtpUsersReloadTest, ABadFileKeepsTheUsersReadBefore) {
  files.write("users", "carol:broken\n");
  std::raise(SIGHUP);
  EXPECT_TRUE(find_user(config, "bob").has_value());
  EXPECT_FALSE(find_user(config, "carol").has_value());
  // Fixed and signalled again, it is read again.
  write_users({"carol"});
  std::raise(SIGHUP);
  EXPECT_TRUE(find_user(config, "carol").has_value());
  std::filesystem::remove(users_path());
  std::raise(SIGHUP);
  EXPECT_TRUE(find_user(config, "carol").has_value());  // a missing file too
}

// A process whose own copy is older than the last good file (a fork child, a prefork worker idle
// since) falls back to the last good file any process read, not to its own copy: a broken file
// must not bring back a user an earlier reload removed.
TEST_F(FtpUsersReloadTest, ABadFileFallsBackToTheLastGoodOneOfAnyProcess) {
  write_users({"carol"});
  std::raise(SIGHUP);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    bool ok = find_user(config, "carol").has_value() && !find_user(config, "bob").has_value();
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // This process never read carol's file itself: its own copy still has bob.
  files.write("users", "carol:broken\n");
  std::raise(SIGHUP);
  EXPECT_TRUE(find_user(config, "carol").has_value());
  EXPECT_FALSE(find_user(config, "bob").has_value());
}

TEST_F(FtpUsersReloadTest, ALoggedInSessionKeepsItsLogin) {
  login("bob", "pw");
  write_users({"carol"});
  std::raise(SIGHUP);
  EXPECT_EQ(code(cmd("PWD")), 257);
  EXPECT_EQ(code(cmd("CWD /")), 250);
  auto first = std::move(session);
  auto first_model = std::move(model);
  open();
  cmd("USER bob");
  EXPECT_EQ(code(cmd("PASS pw")), 530);
  open();
  cmd("USER carol");
  EXPECT_EQ(code(cmd("PASS pw")), 230);
}

}  // namespace
}  // namespace nm::ftp
