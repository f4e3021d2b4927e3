#include <gtest/gtest.h>

#include "net/address.hpp"

namespace nm {

TEST(Address, ParsesIpv4AndIpv6) {
  auto v4 = Address::parse("127.0.0.1:8888");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->port(), 8888);
  EXPECT_EQ(v4->to_string(), "127.0.0.1:8888");
  auto v6 = Address::parse("[::1]:0");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->is_v6());
  EXPECT_EQ(v6->to_string(), "[::1]:0");
}

TEST(Address, RejectsMalformed) {
  EXPECT_FALSE(Address::parse("127.0.0.1"));
  EXPECT_FALSE(Address::parse("127.0.0.1:99999"));
  EXPECT_FALSE(Address::parse("::1:80"));
  EXPECT_FALSE(Address::parse("[::1]80"));
  EXPECT_FALSE(Address::parse("example.com:80"));
  EXPECT_FALSE(Address::parse("1.2.3.4:"));
}

TEST(Address, SameHostIgnoresPortAndV4Mapping) {
  auto a = Address::parse("127.0.0.1:1");
  auto b = Address::parse("[::ffff:127.0.0.1]:2");
  auto c = Address::parse("127.0.0.2:1");
  EXPECT_TRUE(a->same_host(*b));
  EXPECT_FALSE(a->same_host(*c));
}

}  // namespace nm
