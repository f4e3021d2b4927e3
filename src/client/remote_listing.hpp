#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nm::client {

// One name in a remote folder.
struct RemoteEntry {
  std::string name;  // the last part only
  bool directory = false;
};

// The last part of a path: "a/b.txt" -> "b.txt", "a/b/" -> "b".
std::string base_name(std::string_view path);
// "dir" + "name" -> "dir/name"; an empty folder is the working one.
std::string join_path(std::string_view dir, std::string_view name);
// An MLSD line (RFC 3659 7.2), "type=file;size=12;modify=20240101000000; a b.txt" -> the entry;
// nullopt for the folder itself and its parent (type=cdir / pdir) and for an unreadable line.
std::optional<RemoteEntry> parse_mlsd_line(std::string_view line);
// Whether a word holds a shell wildcard (* ? [) and so names files by a pattern.
bool has_wildcard(std::string_view word);

}  // namespace nm::client
