#include "client/ftp_reply.hpp"

#include <utility>

namespace nm::client {
namespace {

// "123" alone, or "123 " / "123-" followed by text.
bool reply_code(std::string_view line, int* code) {
  if (line.size() < 3) return false;
  int value = 0;
  for (size_t i = 0; i < 3; ++i) {
    if (line[i] < '0' || line[i] > '9') return false;
    value = value * 10 + (line[i] - '0');
  }
  if (line.size() > 3 && line[3] != ' ' && line[3] != '-') return false;
  if (value < 100) return false;
  *code = value;
  return true;
}

}  // namespace

std::string Reply::text() const {
  std::string out;
  for (const auto& line : lines) {
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

std::optional<Reply> ReplyParser::next(const std::function<void(std::string_view)>& on_line) {
  for (;;) {
    auto view = input_.view();
    auto nl = view.find('\n');
    if (nl == std::string_view::npos) {
      if (view.size() > kMaxLine) throw ProtocolError("reply line too long");
      return std::nullopt;
    }
    // The same limit as for a line still arriving, so that how the bytes were split never
    // decides whether a reply is taken.
    if (nl > kMaxLine) throw ProtocolError("reply line too long");
    auto line = view.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (on_line) on_line(line);
    // feed() copies the line before it is consumed, so the view stays valid while it is read.
    auto reply = feed(line);
    input_.consume(nl + 1);
    if (reply) return reply;
  }
}

void ReplyParser::reset() {
  input_.clear();
  pending_ = Reply{};
}

std::optional<Reply> ReplyParser::feed(std::string_view line) {
  int code = 0;
  if (pending_.lines.empty()) {
    if (!reply_code(line, &code)) {
      throw ProtocolError("malformed reply from the server: " + std::string(line.substr(0, 80)));
    }
    pending_.code = code;
    pending_.lines.emplace_back(line);
    if (line.size() > 3 && line[3] == '-') return std::nullopt;
    return std::exchange(pending_, Reply{});
  }
  if (pending_.lines.size() >= kMaxLines) throw ProtocolError("endless multi-line reply");
  pending_.lines.emplace_back(line);
  // Inside a multi-line reply any line may start with digits; only "<same code><space>" ends it.
  bool last =
      reply_code(line, &code) && code == pending_.code && (line.size() == 3 || line[3] == ' ');
  if (!last) return std::nullopt;
  return std::exchange(pending_, Reply{});
}

std::optional<std::string> parse_quoted_path(std::string_view line) {
  auto open = line.find('"');
  if (open == std::string_view::npos) return std::nullopt;
  std::string path;
  for (size_t i = open + 1; i < line.size(); ++i) {
    if (line[i] != '"') {
      path += line[i];
    } else if (i + 1 < line.size() && line[i + 1] == '"') {
      path += '"';
      ++i;
    } else {
      return path;
    }
  }
  return std::nullopt;
}

}  // namespace nm::client
