#include <gtest/gtest.h>

#include "client/netrc.hpp"

namespace nm::client {

constexpr const char* kNetrc = R"(machine ftp.example.org login alice password "s3cret word"
machine other.example.org
  login bob
  password hunter2

macdef init
cd /pub
binary

default login anonymous password me@example.org
)";

TEST(ClientNetrc, MachineEntry) {
  auto entry = netrc_lookup(kNetrc, "FTP.example.org", "");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->login, "alice");
  EXPECT_EQ(entry->password, "s3cret word");
  auto multi_line = netrc_lookup(kNetrc, "other.example.org", "");
  ASSERT_TRUE(multi_line);
  EXPECT_EQ(multi_line->login, "bob");
  EXPECT_EQ(multi_line->password, "hunter2");
}

TEST(ClientNetrc, DefaultAndMacdefSkipped) {
  // "cd", "/pub" and "binary" in the macdef are not taken for tokens.
  auto entry = netrc_lookup(kNetrc, "elsewhere", "");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->login, "anonymous");
  EXPECT_EQ(entry->password, "me@example.org");
}

TEST(ClientNetrc, AUserNarrowsTheChoice) {
  // Neither alice's entry nor the default (anonymous) one is carol's.
  EXPECT_FALSE(netrc_lookup(kNetrc, "ftp.example.org", "carol"));
  auto default_for_carol = netrc_lookup("default password pw", "ftp.example.org", "carol");
  ASSERT_TRUE(default_for_carol);  // an entry without a login fits any user
  EXPECT_EQ(default_for_carol->password, "pw");
  auto same_user = netrc_lookup(kNetrc, "ftp.example.org", "alice");
  ASSERT_TRUE(same_user);
  EXPECT_EQ(same_user->password, "s3cret word");
  EXPECT_FALSE(netrc_lookup("machine a login x password y", "b", ""));
}

}  // namespace nm::client
