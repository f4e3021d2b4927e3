#include "client/remote_listing.hpp"

#include <algorithm>
#include <cctype>

namespace nm::client {

std::string base_name(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string join_path(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  return std::string(dir) + (dir.back() == '/' ? "" : "/") + std::string(name);
}

std::optional<RemoteEntry> parse_mlsd_line(std::string_view line) {
  // The facts end at the first blank; the name is everything after it, blanks included.
  auto blank = line.find(' ');
  if (blank == std::string_view::npos || blank + 1 >= line.size()) return std::nullopt;
  std::string facts(line.substr(0, blank));
  std::transform(facts.begin(), facts.end(), facts.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  RemoteEntry entry{base_name(line.substr(blank + 1)), false};
  std::string_view rest = facts;
  while (!rest.empty()) {
    auto semi = rest.find(';');
    auto fact = rest.substr(0, semi);
    if (fact == "type=cdir" || fact == "type=pdir") return std::nullopt;
    if (fact == "type=dir") entry.directory = true;
    if (semi == std::string_view::npos) break;
    rest.remove_prefix(semi + 1);
  }
  if (entry.name.empty() || entry.name == "." || entry.name == "..") return std::nullopt;
  return entry;
}

bool has_wildcard(std::string_view word) {
  return word.find_first_of("*?[") != std::string_view::npos;
}

}  // namespace nm::client
