#include <gtest/gtest.h>

#include "client/remote_listing.hpp"

namespace nm::client {

TEST(ClientListing, MlsdLines) {
  auto file = parse_mlsd_line("type=file;size=12;modify=20240101000000; a b.txt");
  ASSERT_TRUE(file);
  EXPECT_EQ(file->name, "a b.txt");
  EXPECT_FALSE(file->directory);
  auto dir = parse_mlsd_line("Type=dir;Modify=20240101000000;Perm=el; logs");
  ASSERT_TRUE(dir);
  EXPECT_EQ(dir->name, "logs");
  EXPECT_TRUE(dir->directory);
  EXPECT_FALSE(parse_mlsd_line("type=cdir; /pub"));
  EXPECT_FALSE(parse_mlsd_line("type=pdir; .."));
  EXPECT_FALSE(parse_mlsd_line("nonsense"));
}

TEST(ClientListing, Paths) {
  EXPECT_EQ(join_path("", "a"), "a");
  EXPECT_EQ(join_path("d", "a"), "d/a");
  EXPECT_EQ(join_path("d/", "a"), "d/a");
  EXPECT_TRUE(has_wildcard("*.log"));
  EXPECT_TRUE(has_wildcard("a?[bc]"));
  EXPECT_FALSE(has_wildcard("plain.txt"));
}

}  // namespace nm::client
