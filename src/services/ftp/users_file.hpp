#pragma once

#include <filesystem>
#include <istream>
#include <string>
#include <vector>

#include "services/ftp/ftp_config.hpp"

namespace nm {

// Reads a users file (one user per line, see `netmodels passwd --help`); throws
// std::runtime_error naming the file and line on a malformed entry.
std::vector<FtpUser> load_users_file(const std::filesystem::path& path);

// The same for the text of a users file read from `in`; `path` names it in messages and anchors
// relative roots.
std::vector<FtpUser> parse_users_file(std::istream& in, const std::filesystem::path& path);

}  // namespace nm
