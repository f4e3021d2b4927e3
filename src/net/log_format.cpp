#include "net/log_format.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <system_error>

#include "net/logfmt.hpp"
#include "net/signals.hpp"

namespace nm {
namespace {

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

// A quoted value starting at text[*i] == '"': unescaped, *i moved past the closing quote.
std::string quoted_value(std::string_view text, size_t* i) {
  std::string value;
  size_t p = *i + 1;
  while (p < text.size() && text[p] != '"') {
    char c = text[p++];
    if (c == '\\' && p < text.size()) {
      char e = text[p++];
      c = e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e;
    }
    value.push_back(c);
  }
  *i = p < text.size() ? p + 1 : p;
  return value;
}

std::string_view level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

// RFC 3339 in UTC with milliseconds: 2026-12-01T23:05:25.123Z.
std::string timestamp(spdlog::log_clock::time_point when) {
  auto since = when.time_since_epoch();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(since - secs).count();
  std::time_t t = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[96];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return text;
}

std::vector<LogPair> line_pairs(const spdlog::details::log_msg& msg) {
  std::vector<LogPair> pairs;
  pairs.push_back({"ts", timestamp(msg.time)});
  pairs.push_back({"level", std::string(level_name(msg.level))});
  pairs.push_back({"pid", std::to_string(::getpid())});
  for (auto& pair : parse_logfmt(std::string_view(msg.payload.data(), msg.payload.size()))) {
    pairs.push_back(std::move(pair));
  }
  return pairs;
}

class LogfmtFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line;
    for (const auto& [key, value] : line_pairs(msg)) {
      if (!line.empty()) line.push_back(' ');
      line += key;
      line.push_back('=');
      line += logfmt_value(value);
    }
    line.push_back('\n');
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LogfmtFormatter>();
  }
};

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line = "{";
    for (const auto& [key, value] : line_pairs(msg)) {
      if (line.size() > 1) line.push_back(',');
      line += json_string(key);
      line.push_back(':');
      // pid is a number; every other value stays a string, as logfmt does not type its values.
      line += key == "pid" ? value : json_string(value);
    }
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

int open_append(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

}  // namespace

std::vector<LogPair> parse_logfmt(std::string_view text) {
  std::vector<LogPair> pairs;
  std::string words;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    size_t k = i;
    while (k < text.size() && is_key_char(text[k])) ++k;
    if (k > i && k < text.size() && text[k] == '=') {
      LogPair pair{std::string(text.substr(i, k - i)), {}};
      i = k + 1;
      if (i < text.size() && text[i] == '"') {
        pair.value = quoted_value(text, &i);
      } else {
        size_t end = text.find(' ', i);
        if (end == std::string_view::npos) end = text.size();
        pair.value = std::string(text.substr(i, end - i));
        i = end;
      }
      pairs.push_back(std::move(pair));
      continue;
    }
    size_t end = text.find(' ', i);
    if (end == std::string_view::npos) end = text.size();
    if (!words.empty()) words.push_back(' ');
    words += text.substr(i, end - i);
    i = end;
  }
  if (!words.empty()) pairs.insert(pairs.begin(), LogPair{"msg", std::move(words)});
  return pairs;
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char esc[8];
          std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned char>(c));
          out += esc;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

bool parse_log_format(std::string_view name, LogFormat* format) {
  if (name == "logfmt") {
    *format = LogFormat::kLogfmt;
  } else if (name == "json") {
    *format = LogFormat::kJson;
  } else {
    return false;
  }
  return true;
}

std::unique_ptr<spdlog::formatter> make_log_formatter(LogFormat format) {
  if (format == LogFormat::kJson) return std::make_unique<JsonFormatter>();
  return std::make_unique<LogfmtFormatter>();
}

ReopeningFileSink::ReopeningFileSink(std::string path)
    : path_(std::move(path)), fd_(open_append(path_)), generation_(reload_generation()) {
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "log file " + path_);
}

ReopeningFileSink::~ReopeningFileSink() {
  if (fd_ >= 0) ::close(fd_);
}

void ReopeningFileSink::sink_it_(const spdlog::details::log_msg& msg) {
  // base_sink holds its mutex here, so threads never race on the reopen.
  if (unsigned now = reload_generation(); now != generation_) {
    generation_ = now;
    int fd = open_append(path_);
    if (fd >= 0) {  // else keep the old file rather than lose lines
      ::dup3(fd, fd_, O_CLOEXEC);
      ::close(fd);
    }
  }
  spdlog::memory_buf_t line;
  formatter_->format(msg, line);
  [[maybe_unused]] auto n = ::write(fd_, line.data(), line.size());
}

}  // namespace nm
