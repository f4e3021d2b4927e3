#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

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

TEST(ClientReplyStream, RepliesSplitAcrossReads) {
  ReplyParser parser;
  parser.append("220 hel");
  EXPECT_FALSE(parser.next());
  parser.append("lo\r\n211-Features:\r\n MDTM\r");
  auto greeting = parser.next();
  ASSERT_TRUE(greeting);
  EXPECT_EQ(greeting->code, 220);
  EXPECT_EQ(greeting->text(), "220 hello");
  EXPECT_FALSE(parser.next());  // the multi-line reply is not over
  parser.append("\n211 End\r\n200 next\r\n");
  auto features = parser.next();
  ASSERT_TRUE(features);
  EXPECT_EQ(features->code, 211);
  EXPECT_EQ(features->text(), "211-Features:\n MDTM\n211 End");
  auto next = parser.next();  // already buffered: no more bytes needed
  ASSERT_TRUE(next);
  EXPECT_EQ(next->code, 200);
  EXPECT_FALSE(parser.next());
}

TEST(ClientReplyStream, OneByteAtATime) {
  ReplyParser parser;
  std::string_view bytes = "230-Welcome\r\n200 not the end\r\n230 in\r\n";
  std::vector<Reply> replies;
  for (char c : bytes) {
    parser.append(std::string_view(&c, 1));
    while (auto reply = parser.next()) replies.push_back(std::move(*reply));
  }
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].code, 230);
  EXPECT_EQ(replies[0].lines.back(), "230 in");
  EXPECT_EQ(replies[0].lines.size(), 3u);
}

TEST(ClientReplyStream, BareLineFeedsAndEveryLineSeen) {
  ReplyParser parser;
  std::vector<std::string> seen;
  parser.append("150-a\n150 b\n");
  auto reply = parser.next([&](std::string_view line) { seen.emplace_back(line); });
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->code, 150);
  EXPECT_EQ(seen, (std::vector<std::string>{"150-a", "150 b"}));
}

TEST(ClientReplyStream, ReadsIntoReservedRoom) {
  ReplyParser parser;
  std::string_view bytes = "226 Done\r\n";
  char* room = parser.reserve(4096);
  std::copy(bytes.begin(), bytes.end(), room);
  parser.commit(bytes.size());
  auto reply = parser.next();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->code, 226);
}

TEST(ClientReplyStream, RejectsGarbageAndEndlessLines) {
  ReplyParser garbage;
  garbage.append("hello\r\n");
  EXPECT_THROW(garbage.next(), ProtocolError);
  ReplyParser endless;
  endless.append(std::string(70 * 1024, 'x'));
  EXPECT_THROW(endless.next(), ProtocolError);
}

TEST(ClientReplyStream, ResetForgetsAHalfReply) {
  ReplyParser parser;
  parser.append("220-hello\r\n220 ");
  EXPECT_FALSE(parser.next());
  parser.reset();
  parser.append("331 Password\r\n");
  auto reply = parser.next();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->code, 331);
  EXPECT_EQ(reply->lines.size(), 1u);
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
