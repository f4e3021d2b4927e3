#include "net/byte_size.hpp"

#include <gtest/gtest.h>

namespace nm {
namespace {

TEST(ByteSize, PlainAndSuffixed) {
  EXPECT_EQ(parse_byte_size("0"), 0u);
  EXPECT_EQ(parse_byte_size("1234"), 1234u);
  EXPECT_EQ(parse_byte_size("12B"), 12u);
  EXPECT_EQ(parse_byte_size("500K"), 500u * 1024);
  EXPECT_EQ(parse_byte_size("500k"), 500u * 1024);
  EXPECT_EQ(parse_byte_size("2M"), 2u << 20);
  EXPECT_EQ(parse_byte_size("1.5MiB"), 3u << 19);
  EXPECT_EQ(parse_byte_size("10G"), 10ull << 30);
}

TEST(ByteSize, RefusesWhatIsNotASize) {
  for (const char* bad : {"", "K", "-1", "1T", "1 K", "abc", "1e3", "99999999999999999999G"}) {
    EXPECT_FALSE(parse_byte_size(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace nm
