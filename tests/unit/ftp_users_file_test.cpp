#include <gtest/gtest.h>

#include <fstream>

#include "ftp_fake_model.hpp"
#include "services/ftp/auth.hpp"
#include "services/ftp/users_file.hpp"

namespace nm::ftp {
namespace {

using testing::FtpSessionTest;
using testing::TempDir;

std::string hash(const char* prefix, const char* password) {
  auto hashed = hash_password(password, std::string_view(prefix) == "$6$");
  EXPECT_TRUE(hashed.has_value());
  EXPECT_EQ(hashed.value_or("").rfind(prefix, 0), 0u);
  return hashed.value_or("");
}

TEST(FtpAuth, HashPasswordMakesFreshSaltedHashesThatVerify) {
  for (bool sha512 : {false, true}) {
    auto a = hash_password("right", sha512);
    auto b = hash_password("right", sha512);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->rfind(sha512 ? "$6$" : "$y$", 0), 0u);
    EXPECT_NE(*a, *b);  // a new salt each time
    EXPECT_TRUE(verify_password_hash("right", *a));
    EXPECT_TRUE(verify_password_hash("right", *b));
    EXPECT_FALSE(verify_password_hash("wrong", *a));
  }
  EXPECT_FALSE(hash_password(std::string("a\0b", 3), true).has_value());
  EXPECT_FALSE(verify_password_hash("", ""));
}

TEST(FtpUsersFile, ParsesUsersRootsAndRights) {
  TempDir dir;
  auto y = hash("$y$", "pw1");
  dir.write("users", "# comment\n\nalice:" + y + ":/srv/alice:rwdnm\nbob:" + y +
                         ":bob home:r\ncarol:" + y + ":/x:y:-\n");
  auto users = load_users_file(dir / "users");
  ASSERT_EQ(users.size(), 3u);
  EXPECT_EQ(users[0].name, "alice");
  EXPECT_EQ(users[0].password_hash, y);
  EXPECT_EQ(users[0].root, "/srv/alice");
  EXPECT_TRUE(users[0].rights.write && users[0].rights.remove && users[0].rights.rename &&
              users[0].rights.mkdir && users[0].rights.read);
  EXPECT_EQ(users[1].root, dir / "bob home");
  EXPECT_TRUE(users[1].rights.read);
  EXPECT_FALSE(users[1].rights.write);
  EXPECT_EQ(users[2].root, "/x:y");
  EXPECT_FALSE(users[2].rights.read);
}

TEST(FtpUsersFile, ReadsRateAndQuotaAfterTheRights) {
  TempDir dir;
  auto y = hash("$6$", "pw");
  dir.write("users", "alice:" + y + ":/srv/a b:rw rate=500K quota=10M,100\nbob:" + y +
                         ":/srv/b:r  quota=2G\ncarol:" + y + ":/srv/c:rw\n");
  auto users = load_users_file(dir / "users");
  ASSERT_EQ(users.size(), 3u);
  EXPECT_EQ(users[0].root, "/srv/a b");
  EXPECT_TRUE(users[0].rights.write);
  EXPECT_EQ(users[0].max_rate, 500u * 1024);
  ASSERT_TRUE(users[0].quota.has_value());
  EXPECT_EQ(users[0].quota->bytes, 10u << 20);
  EXPECT_EQ(users[0].quota->files, 100u);
  EXPECT_EQ(users[1].max_rate, 0u);
  ASSERT_TRUE(users[1].quota.has_value());
  EXPECT_EQ(users[1].quota->bytes, 2ull << 30);
  EXPECT_EQ(users[1].quota->files, 0u);
  // The older format, no limits: as before.
  EXPECT_EQ(users[2].max_rate, 0u);
  EXPECT_FALSE(users[2].quota.has_value());
  // --user takes the same limits after its rights.
  auto user = parse_user_option("dave:pw:/srv/d:rw rate=1M quota=5M", "/srv");
  EXPECT_EQ(user.max_rate, 1u << 20);
  ASSERT_TRUE(user.quota.has_value());
  EXPECT_EQ(user.quota->bytes, 5u << 20);
}

TEST(FtpUsersFile, BadLimitsNameTheLine) {
  TempDir dir;
  for (const char* bad :
       {"rw rate=fast", "rw rate=0", "rw quota=1M,", "rw quota=1M,x", "rw speed=1M", "rw quota"}) {
    dir.write("bad", "# one\nalice:$y$abc:/r:" + std::string(bad) + "\n");
    try {
      load_users_file(dir / "bad");
      ADD_FAILURE() << bad;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("bad:2"), std::string::npos) << e.what();
    }
  }
}

TEST(FtpUsersFile, ErrorsNameFileAndLine) {
  TempDir dir;
  dir.write("bad", "alice:$y$abc:/r:rw\nbroken line\n");
  try {
    load_users_file(dir / "bad");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "bad").string() + ":2"), std::string::npos)
        << e.what();
  }
  dir.write("rights", "alice:$y$abc:/r:rwx\n");
  EXPECT_THROW(load_users_file(dir / "rights"), std::runtime_error);
  dir.write("dup", "a:$y$x:/r:r\na:$y$x:/r:r\n");
  EXPECT_THROW(load_users_file(dir / "dup"), std::runtime_error);
  dir.write("nohash", "a:plain:/r:r\n");
  EXPECT_THROW(load_users_file(dir / "nohash"), std::runtime_error);
  EXPECT_THROW(load_users_file(dir / "missing"), std::runtime_error);
}

TEST(FtpAuth, VerifiesYescryptSha512AndPlain) {
  FtpUser user;
  user.password_hash = hash("$y$", "right");
  EXPECT_TRUE(verify_password(user, "right"));
  EXPECT_FALSE(verify_password(user, "wrong"));
  EXPECT_FALSE(verify_password(user, ""));
  user.password_hash = hash("$6$", "right");
  EXPECT_TRUE(verify_password(user, "right"));
  EXPECT_FALSE(verify_password(user, "righ"));
  EXPECT_FALSE(verify_password(user, std::string("right\0x", 7)));
  user.plain_password = "plain";
  EXPECT_TRUE(verify_password(user, "plain"));
  EXPECT_FALSE(verify_password(user, "plain2"));
  FtpUser locked;
  locked.password_hash = "!";
  EXPECT_FALSE(verify_password(locked, "!"));
  EXPECT_FALSE(verify_password(locked, ""));
}

TEST(FtpAuth, AnonymousNames) {
  EXPECT_TRUE(is_anonymous_name("anonymous"));
  EXPECT_TRUE(is_anonymous_name("FTP"));
  EXPECT_FALSE(is_anonymous_name("alice"));
}

TEST_F(FtpSessionTest, HashedUserLogsIn) {
  FtpUser bob;
  bob.name = "bob";
  bob.password_hash = hash("$y$", "hunter2");
  bob.root = dir.path();
  config.users.push_back(bob);
  open();
  cmd("USER bob");
  EXPECT_EQ(code(cmd("PASS hunter2")), 230);
  open();
  cmd("USER bob");
  EXPECT_EQ(code(cmd("PASS hunter3")), 530);
}

}  // namespace
}  // namespace nm::ftp
