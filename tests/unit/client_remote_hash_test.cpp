#include "client/remote_hash.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace nm::client {
namespace {

TEST(ClientRemoteHash, PrefersSha256ThenSha1ThenMd5) {
  auto a = choose_hash({"MDTM", "HASH SHA-1;SHA-256*;MD5;CRC32", "SIZE"});
  ASSERT_TRUE(a);
  EXPECT_EQ(a->name, "SHA-256");
  EXPECT_TRUE(a->selected);
  auto b = choose_hash({"HASH CRC32*;MD5;SHA-1"});
  ASSERT_TRUE(b);
  EXPECT_EQ(b->name, "SHA-1");
  EXPECT_FALSE(b->selected);
  EXPECT_FALSE(choose_hash({"HASH CRC32*"}));
  EXPECT_FALSE(choose_hash({"MDTM", "SIZE", "UTF8"}));  // vsftpd: no HASH at all
  EXPECT_FALSE(choose_hash({}));
}

TEST(ClientRemoteHash, ParsesTheReply) {
  auto r = parse_hash_reply("213 SHA-256 0-3 BA7816BF8F01cfea a file name");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->algorithm, "SHA-256");
  EXPECT_EQ(r->hex, "ba7816bf8f01cfea");
  EXPECT_FALSE(parse_hash_reply("550 No such file"));
  EXPECT_FALSE(parse_hash_reply("213 SHA-256 0-3"));
  EXPECT_FALSE(parse_hash_reply("213 SHA-256 0-3 xyz name"));
}

TEST(ClientRemoteHash, DigestsALocalFile) {
  char path[] = "/tmp/nm-remote-hash-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "abc", 3), 3);
  ::close(fd);
  EXPECT_EQ(local_digest(path, "SHA-256"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(local_digest(path, "MD5"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_FALSE(local_digest(path, "CRC32"));
  ::unlink(path);
  EXPECT_FALSE(local_digest(path, "SHA-256"));
}

}  // namespace
}  // namespace nm::client
