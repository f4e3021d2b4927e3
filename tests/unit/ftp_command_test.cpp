#include <gtest/gtest.h>

#include <list>
#include <vector>

#include "services/ftp/command.hpp"
#include "services/ftp/reply.hpp"

namespace nm::ftp {
namespace {

std::vector<Line> feed(LineFramer& framer, std::string_view bytes) {
  std::list<Line> lines;
  framer.feed(bytes, lines);
  return {lines.begin(), lines.end()};
}

TEST(FtpCommand, VerbIsUpperCasedArgumentKept) {
  auto cmd = parse_command("retr My File.txt");
  EXPECT_EQ(cmd.verb, "RETR");
  EXPECT_EQ(cmd.arg, "My File.txt");
  cmd = parse_command("NOOP");
  EXPECT_EQ(cmd.verb, "NOOP");
  EXPECT_EQ(cmd.arg, "");
  cmd = parse_command("CWD  two leading");
  EXPECT_EQ(cmd.arg, " two leading");
}

TEST(FtpFramer, SplitsCrlfLfAndCrLines) {
  LineFramer framer;
  auto lines = feed(framer, "USER a\r\nPASS b\nNOOP\rQUIT\r\n");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].text, "USER a");
  EXPECT_EQ(lines[1].text, "PASS b");
  EXPECT_EQ(lines[2].text, "NOOP");
  EXPECT_EQ(lines[3].text, "QUIT");
}

TEST(FtpFramer, KeepsPartialLinesAcrossPackets) {
  LineFramer framer;
  EXPECT_TRUE(feed(framer, "US").empty());
  EXPECT_TRUE(feed(framer, "ER al").empty());
  auto lines = feed(framer, "ice\r");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "USER alice");
  // The LF of a CRLF split across packets is not an empty line of its own.
  lines = feed(framer, "\nNOOP\r\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "NOOP");
}

TEST(FtpFramer, DropsTelnetCommandsBeforeAbor) {
  LineFramer framer;
  auto lines = feed(framer,
                    "\xff\xf4\xff\xf2"
                    "ABOR\r\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "ABOR");
  lines = feed(framer,
               "X\xff\xff"
               "Y\xff\xfb\x01Z\r\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text,
            "X\xff"
            "YZ");
}

TEST(FtpFramer, TelnetAbortSplitAcrossReads) {
  // lftp sends IAC IP IAC, the DM alone as urgent data, then ABOR: with SO_OOBINLINE they can
  // arrive in three reads, and an IAC at the end of one read still governs the next byte.
  LineFramer framer;
  EXPECT_TRUE(feed(framer, "\xff\xf4\xff").empty());
  EXPECT_TRUE(framer.partial()) << "a Telnet command in progress";
  EXPECT_TRUE(feed(framer, "\xf2").empty());
  EXPECT_FALSE(framer.partial()) << "IAC IP IAC DM is no line";
  auto lines = feed(framer, "ABOR\r\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "ABOR");
  EXPECT_TRUE(feed(framer, "NO").empty());
  EXPECT_TRUE(framer.partial());
}

TEST(FtpFramer, OverlongLineIsReportedOnceAndDiscarded) {
  LineFramer framer;
  std::string big(5 * 1024, 'a');
  auto lines = feed(framer, "RETR " + big.substr(0, 3000));
  EXPECT_TRUE(lines.empty());
  lines = feed(framer, big + "\r\nNOOP\r\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_TRUE(lines[0].too_long);
  EXPECT_EQ(lines[1].text, "NOOP");
  EXPECT_FALSE(lines[1].too_long);
}

TEST(FtpFramer, LineOfExactlyTheLimitIsKept) {
  LineFramer framer;
  std::string line(LineFramer::kMaxLine, 'b');
  auto lines = feed(framer, line + "\r\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_FALSE(lines[0].too_long);
  EXPECT_EQ(lines[0].text.size(), LineFramer::kMaxLine);
}

TEST(FtpReply, SingleAndMultiLine) {
  Buffer out;
  reply(out, 200, "ok");
  EXPECT_EQ(out.view(), "200 ok\r\n");
  out.clear();
  reply_lines(out, 211, "Features:", {"EPSV", "211 fake"}, "End");
  EXPECT_EQ(out.view(), "211-Features:\r\n EPSV\r\n 211 fake\r\n211 End\r\n");
}

TEST(FtpReply, LineBreaksInTextCannotForgeReplies) {
  Buffer out;
  reply(out, 550, "bad\r\n230 name");
  EXPECT_EQ(out.view(), "550 bad??230 name\r\n");
}

TEST(FtpReply, QuotesAreDoubledInPaths) {
  EXPECT_EQ(quote_path("/a \"b\""), "\"/a \"\"b\"\"\"");
}

}  // namespace
}  // namespace nm::ftp
