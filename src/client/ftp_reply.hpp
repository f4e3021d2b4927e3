#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nm::client {

// One reply of the control connection; a multi-line reply keeps all its lines.
struct Reply {
  int code = 0;
  std::vector<std::string> lines;  // as received, without the line ending

  int kind() const { return code / 100; }
  bool ok() const { return kind() == 2; }
  // The whole reply as the server worded it, lines joined by newlines.
  std::string text() const;
};

// Assembles replies from lines (RFC 959 4.2): "123-first" ... "123 last", or one "123 text".
class ReplyParser {
 public:
  // Takes one line without its line ending; returns the reply it completes, if any.
  // Throws ProtocolError for a line that cannot start a reply.
  std::optional<Reply> feed(std::string_view line);

 private:
  // A server that never ends a multi-line reply must not grow our memory without bound.
  static constexpr size_t kMaxLines = 100000;
  Reply pending_;
};

// The server broke the protocol (or the connection); the session cannot go on.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The server refused a command; the session goes on.
class FtpError : public std::runtime_error {
 public:
  explicit FtpError(Reply reply) : std::runtime_error(reply.text()), reply_(std::move(reply)) {}
  const Reply& reply() const { return reply_; }

 private:
  Reply reply_;
};

// The path of a 257 reply, where a quote inside the name is doubled (RFC 959 appendix II):
// `257 "/a ""b""" is current` -> `/a "b"`.
std::optional<std::string> parse_quoted_path(std::string_view reply_line);

}  // namespace nm::client
