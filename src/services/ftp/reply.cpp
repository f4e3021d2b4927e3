#include "services/ftp/reply.hpp"

#include <cerrno>
#include <cstring>
#include <string>

namespace nm::ftp {
namespace {

void append_clean(Buffer& out, std::string_view text) {
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' || text[i] == '\n' || text[i] == '\0') {
      out.append(text.substr(start, i - start));
      out.append("?");
      start = i + 1;
    }
  }
  out.append(text.substr(start));
}

void append_code(Buffer& out, int code, char sep) {
  char buf[4] = {static_cast<char>('0' + code / 100 % 10), static_cast<char>('0' + code / 10 % 10),
                 static_cast<char>('0' + code % 10), sep};
  out.append(buf, 4);
}

}  // namespace

void reply(Buffer& out, int code, std::string_view text) {
  append_code(out, code, ' ');
  append_clean(out, text);
  out.append("\r\n");
}

void reply_lines(Buffer& out, int code, std::string_view first,
                 const std::vector<std::string>& lines, std::string_view last) {
  append_code(out, code, '-');
  append_clean(out, first);
  out.append("\r\n");
  for (const auto& line : lines) {
    out.append(" ");
    append_clean(out, line);
    out.append("\r\n");
  }
  reply(out, code, last);
}

std::string quote_path(std::string_view path) {
  std::string q = "\"";
  for (char c : path) {
    if (c == '"') q.push_back('"');
    q.push_back(c);
  }
  q.push_back('"');
  return q;
}

void reply_errno(Buffer& out, int err) {
  switch (err) {
    case ENOENT:
      reply(out, 550, "No such file or directory.");
      break;
    case EACCES:
    case EPERM:
    case EXDEV:
    case EROFS:
      reply(out, 550, "Permission denied.");
      break;
    case EEXIST:
      reply(out, 550, "File exists.");
      break;
    case ENOTEMPTY:
      reply(out, 550, "Directory not empty.");
      break;
    case EISDIR:
      reply(out, 550, "Is a directory.");
      break;
    case ENOTDIR:
      reply(out, 550, "Not a directory.");
      break;
    case ENAMETOOLONG:
      reply(out, 550, "File name too long.");
      break;
    case ENOSPC:
    case EDQUOT:
      reply(out, 452, "Insufficient storage space.");
      break;
    default:
      reply(out, 550, std::string("Failed: ") + std::strerror(err) + ".");
      break;
  }
}

}  // namespace nm::ftp
