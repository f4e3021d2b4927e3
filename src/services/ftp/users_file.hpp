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

// One --user option: NAME:PASSWORD, a user with every right rooted at `default_root`, or
// NAME:PASSWORD:ROOT:RIGHTS with the users file's rights letters. Three ':' or more make the
// second form, so its password holds no ':' (ROOT may: NAME and PASSWORD are cut from the left,
// RIGHTS from the right); the first form takes everything after the first ':' as the password,
// one ':' included. Throws std::runtime_error saying what is wrong.
FtpUser parse_user_option(const std::string& spec, const std::filesystem::path& default_root);

}  // namespace nm
