#include <gtest/gtest.h>

#include "client/ftp_reply.hpp"

namespace nm::client {

TEST(ClientReply, SingleLine) {
  ReplyParser parser;
  auto reply = parser.feed("220 Welcome");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->code, 220);
  EXPECT_TRUE(reply->ok());
  EXPECT_EQ(reply->text(), "220 Welcome");
}

TEST(ClientReply, BareCodeIsAReply) {
  ReplyParser parser;
  auto reply = parser.feed("200");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->code, 200);
}

TEST(ClientReply, MultiLineEndsOnlyWithSameCodeAndSpace) {
  ReplyParser parser;
  EXPECT_FALSE(parser.feed("211-Features:"));
  EXPECT_FALSE(parser.feed(" EPSV"));
  EXPECT_FALSE(parser.feed("211-still going"));
  EXPECT_FALSE(parser.feed("123 a line that looks like another reply"));
  auto reply = parser.feed("211 End");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->code, 211);
  ASSERT_EQ(reply->lines.size(), 5u);
  EXPECT_EQ(reply->lines[1], " EPSV");
  EXPECT_EQ(reply->text(),
            "211-Features:\n EPSV\n211-still going\n"
            "123 a line that looks like another reply\n211 End");
}

TEST(ClientReply, ParserIsReadyForTheNextReply) {
  ReplyParser parser;
  EXPECT_FALSE(parser.feed("230-Hello"));
  ASSERT_TRUE(parser.feed("230 Logged in"));
  auto next = parser.feed("550 No");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->code, 550);
  EXPECT_EQ(next->kind(), 5);
  EXPECT_EQ(next->lines.size(), 1u);
}

TEST(ClientReply, RejectsMalformedLines) {
  ReplyParser parser;
  EXPECT_THROW(parser.feed("hello"), ProtocolError);
  EXPECT_THROW(parser.feed("22 short"), ProtocolError);
  EXPECT_THROW(parser.feed("220x"), ProtocolError);
  EXPECT_THROW(parser.feed("099 too small"), ProtocolError);
  EXPECT_THROW(parser.feed(""), ProtocolError);
}

TEST(ClientReply, FtpErrorCarriesTheReply) {
  Reply reply{550, {"550 Failed to open file."}};
  FtpError error(reply);
  EXPECT_STREQ(error.what(), "550 Failed to open file.");
  EXPECT_EQ(error.reply().code, 550);
}

TEST(ClientReply, QuotedPath) {
  EXPECT_EQ(parse_quoted_path("257 \"/pub\" is the current directory"), "/pub");
  EXPECT_EQ(parse_quoted_path("257 \"/a \"\"b\"\"\" created"), "/a \"b\"");
  EXPECT_EQ(parse_quoted_path("257 \"\""), "");
  EXPECT_FALSE(parse_quoted_path("257 no quotes"));
  EXPECT_FALSE(parse_quoted_path("257 \"unterminated"));
}

}  // namespace nm::client
