#include <gtest/gtest.h>

#include "client/data_address.hpp"

namespace nm::client {

TEST(ClientPasv, ParsesTheSixNumbers) {
  auto hp = parse_pasv_reply("227 Entering Passive Mode (127,0,0,1,200,10).");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, 200 * 256 + 10);
}

TEST(ClientPasv, ParenthesesAreOptional) {
  auto hp = parse_pasv_reply("227 =10,1,2,3,4,1");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "10.1.2.3");
  EXPECT_EQ(hp->port, 4 * 256 + 1);
}

TEST(ClientPasv, RejectsBadNumbers) {
  EXPECT_FALSE(parse_pasv_reply("227 Entering Passive Mode (127,0,0,1,200)."));
  EXPECT_FALSE(parse_pasv_reply("227 Entering Passive Mode (127,0,0,1,256,10)."));
  EXPECT_FALSE(parse_pasv_reply("227 Entering Passive Mode."));
  EXPECT_FALSE(parse_pasv_reply("227 (1,2,3,4,5,)"));
}

TEST(ClientEpsv, ParsesThePort) {
  EXPECT_EQ(parse_epsv_reply("229 Entering Extended Passive Mode (|||6446|)"), 6446);
  EXPECT_EQ(parse_epsv_reply("229 ok (!!!21!)"), 21);
}

TEST(ClientEpsv, RejectsMalformed) {
  EXPECT_FALSE(parse_epsv_reply("229 Entering Extended Passive Mode"));
  EXPECT_FALSE(parse_epsv_reply("229 (||6446|)"));
  EXPECT_FALSE(parse_epsv_reply("229 (|||6446!)"));
  EXPECT_FALSE(parse_epsv_reply("229 (|||70000|)"));
  EXPECT_FALSE(parse_epsv_reply("229 (||||)"));
  EXPECT_FALSE(parse_epsv_reply("229 (|||0|)"));
}

TEST(ClientPort, FormatsPortAndEprtArguments) {
  auto v4 = Address::parse("127.0.0.1:51210");
  ASSERT_TRUE(v4);
  EXPECT_EQ(port_argument(*v4), "127,0,0,1,200,10");
  EXPECT_EQ(eprt_argument(*v4), "|1|127.0.0.1|51210|");
  auto v6 = Address::parse("[::1]:2121");
  ASSERT_TRUE(v6);
  EXPECT_EQ(eprt_argument(*v6), "|2|::1|2121|");
  auto mapped = Address::parse("[::ffff:10.0.0.1]:258");
  ASSERT_TRUE(mapped);
  EXPECT_EQ(port_argument(*mapped), "10,0,0,1,1,2");
}

}  // namespace nm::client
