#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nm::client {

// A login found in a netrc file.
struct NetrcEntry {
  std::string login;
  std::optional<std::string> password;
};

// The entry of netrc `text` (the format of ftp(1) and curl: "machine HOST login L password P",
// "default ...", "macdef" skipped) for `host`: its machine entry, else the default one. With a
// `user`, only an entry for that login (or one without a login) counts.
std::optional<NetrcEntry> netrc_lookup(std::string_view text, std::string_view host,
                                       std::string_view user);

// Reads `path` and looks `host` up. A file that is not there gives nullopt; one that group or
// others may read is refused with std::runtime_error, as ftp(1) and curl refuse it: the
// passwords in it are no longer secret.
std::optional<NetrcEntry> read_netrc(const std::string& path, std::string_view host,
                                     std::string_view user);

}  // namespace nm::client
