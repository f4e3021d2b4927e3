#pragma once

#include <spdlog/formatter.h>
#include <spdlog/sinks/base_sink.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace nm {

// Log lines that tools read. A message is logfmt pairs ("event=login user=alice ..."); the
// formatters put "ts=... level=... pid=..." in front and render the line either as logfmt or as
// one JSON object per line with the same pairs. Words of a message that are not pairs (messages
// not yet converted, a leading "ftp") are kept, joined, as the pair msg="...".
struct LogPair {
  std::string key;
  std::string value;
};

// The pairs of a message, values unquoted and unescaped (the inverse of logfmt_value()); words
// that are not pairs come first as one "msg" pair.
std::vector<LogPair> parse_logfmt(std::string_view message);
// A JSON string literal, quotes included.
std::string json_string(std::string_view text);

enum class LogFormat { kLogfmt, kJson };
// "logfmt" or "json"; false for anything else.
bool parse_log_format(std::string_view name, LogFormat* format);

std::unique_ptr<spdlog::formatter> make_log_formatter(LogFormat format);

// A log file that logrotate can move: opened O_APPEND (forked children share it without
// overwriting each other), each line one write(2), reopened at the path before the first line
// after a SIGHUP (see reload_generation() in net/signals.hpp).
class ReopeningFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ReopeningFileSink(std::string path);  // throws std::system_error
  ~ReopeningFileSink() override;
  const std::string& path() const { return path_; }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  std::string path_;
  int fd_ = -1;
  unsigned generation_ = 0;
};

}  // namespace nm
