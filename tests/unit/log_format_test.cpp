#include "net/log_format.hpp"

#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>
#include <spdlog/logger.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "net/logfmt.hpp"
#include "net/signals.hpp"

namespace nm {
namespace {

std::string render(LogFormat format, std::string_view payload) {
  spdlog::details::log_msg msg("netmodels", spdlog::level::info, payload);
  spdlog::memory_buf_t out;
  make_log_formatter(format)->format(msg, out);
  return std::string(out.data(), out.size());
}

TEST(ParseLogfmt, PairsAndQuotedValues) {
  auto pairs = parse_logfmt(R"(event=login user="a b" path="x\"y\\z" bytes=5)");
  ASSERT_EQ(pairs.size(), 4u);
  EXPECT_EQ(pairs[0].key, "event");
  EXPECT_EQ(pairs[0].value, "login");
  EXPECT_EQ(pairs[1].value, "a b");
  EXPECT_EQ(pairs[2].value, "x\"y\\z");
  EXPECT_EQ(pairs[3].value, "5");
}

TEST(ParseLogfmt, RoundTripsLogfmtValue) {
  for (std::string v : {"plain", "with space", "quote\"d", "back\\slash", "a=b", "", "tab\there"}) {
    auto pairs = parse_logfmt("k=" + logfmt_value(v));
    ASSERT_EQ(pairs.size(), 1u) << v;
    EXPECT_EQ(pairs[0].value, v);
  }
  // logfmt_value turns a line break into \n, so the line stays one line.
  auto pairs = parse_logfmt("k=" + logfmt_value("two\nlines"));
  EXPECT_EQ(pairs[0].value, "two\nlines");
}

TEST(ParseLogfmt, WordsBecomeMsg) {
  auto pairs = parse_logfmt("ftp event=login user=alice");
  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_EQ(pairs[0].key, "msg");
  EXPECT_EQ(pairs[0].value, "ftp");
  auto free_text = parse_logfmt("out of file descriptors (EMFILE): refused");
  ASSERT_EQ(free_text.size(), 1u);
  EXPECT_EQ(free_text[0].value, "out of file descriptors (EMFILE): refused");
}

TEST(JsonString, Escapes) {
  EXPECT_EQ(json_string("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json_string("l1\nl2\r\t"), R"("l1\nl2\r\t")");
  EXPECT_EQ(json_string(std::string("\x01", 1)), R"("\u0001")");
}

TEST(LogFormatter, LogfmtLine) {
  auto line = render(LogFormat::kLogfmt, "ftp event=login user=\"a b\" result=fail");
  EXPECT_EQ(line.rfind("ts=", 0), 0u) << line;
  EXPECT_NE(line.find(" level=info pid="), std::string::npos) << line;
  EXPECT_NE(line.find(" msg=ftp event=login user=\"a b\" result=fail\n"), std::string::npos)
      << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(LogFormatter, JsonLine) {
  auto line = render(LogFormat::kJson, R"(event=transfer path="/a \"q\".txt" bytes=3)");
  EXPECT_EQ(line.rfind("{\"ts\":\"", 0), 0u) << line;
  EXPECT_NE(line.find(R"("level":"info","pid":)"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("event":"transfer","path":"/a \"q\".txt","bytes":"3"}
)"),
            std::string::npos)
      << line;
}

TEST(LogFormat, Names) {
  LogFormat f;
  EXPECT_TRUE(parse_log_format("json", &f));
  EXPECT_EQ(f, LogFormat::kJson);
  EXPECT_TRUE(parse_log_format("logfmt", &f));
  EXPECT_EQ(f, LogFormat::kLogfmt);
  EXPECT_FALSE(parse_log_format("xml", &f));
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ReopeningFileSink, ReopensAtThePathAfterSighup) {
  namespace fs = std::filesystem;
  fs::path log = fs::temp_directory_path() / ("log_format_test." + std::to_string(::getpid()));
  fs::remove(log);
  fs::remove(log.string() + ".1");
  install_reload_signal();
  {
    auto sink = std::make_shared<ReopeningFileSink>(log.string());
    spdlog::logger logger("test", sink);
    logger.set_formatter(make_log_formatter(LogFormat::kLogfmt));
    logger.info("event=one");
    fs::rename(log, log.string() + ".1");  // what logrotate does
    logger.info("event=two");              // no SIGHUP yet: still the moved file
    unsigned before = reload_generation();
    std::raise(SIGHUP);
    EXPECT_EQ(reload_generation(), before + 1);
    logger.info("event=three");
  }
  auto old_text = slurp(log.string() + ".1");
  auto new_text = slurp(log);
  EXPECT_NE(old_text.find("event=one"), std::string::npos);
  EXPECT_NE(old_text.find("event=two"), std::string::npos);
  EXPECT_EQ(old_text.find("event=three"), std::string::npos);
  EXPECT_NE(new_text.find("event=three"), std::string::npos);
  std::signal(SIGHUP, SIG_DFL);
  fs::remove(log);
  fs::remove(log.string() + ".1");
}

}  // namespace
}  // namespace nm
