#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "net/buffer.hpp"

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

// Assembles replies (RFC 959 4.2): "123-first" ... "123 last", or one "123 text". Incremental:
// the bytes of the control connection go in as they arrive, split anywhere, and complete replies
// come out; the client and the load generator share it.
class ReplyParser {
 public:
  // Bytes as read from the control connection.
  void append(std::string_view bytes) { input_.append(bytes); }
  // Room to read at least `n` bytes into directly, then commit() how many arrived.
  char* reserve(size_t n) { return input_.reserve(n); }
  void commit(size_t n) { input_.commit(n); }
  // The next reply the appended bytes complete, if any; call again for the ones buffered after
  // it. `on_line`, if set, sees every line as it is taken. Throws ProtocolError for a line that
  // cannot start a reply or is longer than any FTP line.
  std::optional<Reply> next(const std::function<void(std::string_view)>& on_line = {});
  // Takes one line without its line ending; returns the reply it completes, if any.
  // Throws ProtocolError for a line that cannot start a reply.
  std::optional<Reply> feed(std::string_view line);
  // Forgets everything buffered: for a new connection.
  void reset();

 private:
  // A server that never ends a multi-line reply, or a line, must not grow our memory without
  // bound.
  static constexpr size_t kMaxLines = 100000;
  static constexpr size_t kMaxLine = 64 * 1024;
  Buffer input_;
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
