#include "client/line_endings.hpp"

namespace nm::client {

std::string CrlfToLf::convert(std::string_view chunk) {
  std::string out;
  out.reserve(chunk.size() + 1);
  for (char c : chunk) {
    if (held_cr_) {
      held_cr_ = false;
      if (c != '\n') out += '\r';
    }
    if (c == '\r') {
      held_cr_ = true;
    } else {
      out += c;
    }
  }
  return out;
}

std::string CrlfToLf::finish() {
  bool held = held_cr_;
  held_cr_ = false;
  return held ? "\r" : "";
}

std::string LfToCrlf::convert(std::string_view chunk) {
  std::string out;
  out.reserve(chunk.size() + chunk.size() / 16);
  for (char c : chunk) {
    if (c == '\n' && !last_was_cr_) out += '\r';
    out += c;
    last_was_cr_ = c == '\r';
  }
  return out;
}

}  // namespace nm::client
