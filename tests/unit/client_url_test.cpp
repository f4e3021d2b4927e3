#include <gtest/gtest.h>

#include "client/ftp_url.hpp"

namespace nm::client {

TEST(ClientTarget, HostAlone) {
  auto t = parse_target("example.org");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "example.org");
  EXPECT_EQ(t->port, 21);
  EXPECT_TRUE(t->user.empty());
  EXPECT_FALSE(t->password);
}

TEST(ClientTarget, UserPasswordHostPort) {
  auto t = parse_target("alice:se:cr@t@127.0.0.1:2121");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->user, "alice");
  EXPECT_EQ(t->password, "se:cr@t");
  EXPECT_EQ(t->host, "127.0.0.1");
  EXPECT_EQ(t->port, 2121);
}

TEST(ClientTarget, UserWithoutPassword) {
  auto t = parse_target("bob@host");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->user, "bob");
  EXPECT_FALSE(t->password);
}

TEST(ClientTarget, Ipv6) {
  auto t = parse_target("[::1]:2121");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "::1");
  EXPECT_EQ(t->port, 2121);
  auto bare = parse_target("::1");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->host, "::1");
  EXPECT_EQ(bare->port, 21);
}

TEST(ClientTarget, RejectsBadPorts) {
  EXPECT_FALSE(parse_target("host:"));
  EXPECT_FALSE(parse_target("host:0"));
  EXPECT_FALSE(parse_target("host:65536"));
  EXPECT_FALSE(parse_target("host:21x"));
  EXPECT_FALSE(parse_target("[::1]2121"));
  EXPECT_FALSE(parse_target("@host"));
  EXPECT_FALSE(parse_target(""));
}

TEST(ClientUrl, Full) {
  auto t = parse_ftp_url("ftp://al%40ice:p%3Aw%2F@127.0.0.1:2121/dir/my%20file.txt");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->user, "al@ice");
  EXPECT_EQ(t->password, "p:w/");
  EXPECT_EQ(t->host, "127.0.0.1");
  EXPECT_EQ(t->port, 2121);
  EXPECT_EQ(t->path, "dir/my file.txt");
}

TEST(ClientUrl, NoPathAndAbsolutePath) {
  auto bare = parse_ftp_url("FTP://host");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->path, "");
  EXPECT_EQ(bare->port, 21);
  auto absolute = parse_ftp_url("ftp://host/%2Fetc/motd");
  ASSERT_TRUE(absolute);
  EXPECT_EQ(absolute->path, "/etc/motd");
  auto dir = parse_ftp_url("ftp://[::1]:21/pub/");
  ASSERT_TRUE(dir);
  EXPECT_EQ(dir->host, "::1");
  EXPECT_EQ(dir->path, "pub/");
}

TEST(ClientUrl, TypeSuffixIsDropped) {
  auto t = parse_ftp_url("ftp://host/a.bin;type=i");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "a.bin");
}

TEST(ClientUrl, RejectsInjectionAndBadEscapes) {
  EXPECT_FALSE(parse_ftp_url("ftp://host/a%0D%0ADELE%20b"));
  EXPECT_FALSE(parse_ftp_url("ftp://host/a%00"));
  EXPECT_FALSE(parse_ftp_url("ftp://host/a%2"));
  EXPECT_FALSE(parse_ftp_url("ftp://host/a%zz"));
  EXPECT_FALSE(parse_ftp_url("http://host/a"));
  EXPECT_FALSE(parse_ftp_url("ftp:///a"));
}

TEST(ClientUrl, SchemesChooseTls) {
  auto plain = parse_ftp_url("ftp://host/a");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->tls, TlsMode::kOptional);
  EXPECT_EQ(plain->port, 21);
  auto explicit_tls = parse_ftp_url("FTPES://bob@host/dir/");
  ASSERT_TRUE(explicit_tls);
  EXPECT_EQ(explicit_tls->tls, TlsMode::kExplicit);
  EXPECT_EQ(explicit_tls->port, 21);
  EXPECT_EQ(explicit_tls->user, "bob");
  EXPECT_EQ(explicit_tls->path, "dir/");
  auto implicit_tls = parse_ftp_url("ftps://host/a");
  ASSERT_TRUE(implicit_tls);
  EXPECT_EQ(implicit_tls->tls, TlsMode::kImplicit);
  EXPECT_EQ(implicit_tls->port, 990);
  auto other_port = parse_ftp_url("ftps://[::1]:9990/");
  ASSERT_TRUE(other_port);
  EXPECT_EQ(other_port->host, "::1");
  EXPECT_EQ(other_port->port, 9990);
  EXPECT_TRUE(looks_like_ftp_url("ftpes://h"));
  EXPECT_FALSE(looks_like_ftp_url("ftpx://h"));
  EXPECT_FALSE(parse_ftp_url("sftp://host/a"));
}

TEST(ClientUrl, PercentDecode) {
  EXPECT_EQ(percent_decode("a%20b%2fc"), "a b/c");
  EXPECT_EQ(percent_decode("plain"), "plain");
  EXPECT_FALSE(percent_decode("%"));
  EXPECT_FALSE(percent_decode("%0a"));
}

}  // namespace nm::client
