#include "net/logfmt.hpp"

namespace nm {

std::string logfmt_value(std::string_view v) {
  bool bare = !v.empty() && v.find_first_of(" =\"\\\t\r\n") == std::string_view::npos;
  if (bare) return std::string(v);
  std::string q = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') q.push_back('\\');
    if (c == '\n' || c == '\r') {
      q += "\\n";
      continue;
    }
    q.push_back(c);
  }
  q.push_back('"');
  return q;
}

}  // namespace nm
