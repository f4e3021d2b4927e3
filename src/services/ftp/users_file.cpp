#include "services/ftp/users_file.hpp"

#include <fstream>
#include <set>
#include <stdexcept>
#include <string>

namespace nm {
namespace {

// The users file, one user a line, as `netmodels passwd` prints it:
//
//     NAME:HASH:ROOT:RIGHTS
//
// HASH is a crypt(3) hash ("$y$..." yescrypt, "$6$..." SHA-512; hashes never hold ':'). ROOT is
// the user's folder; a relative ROOT is taken from the users file's own folder. ROOT may hold ':'
// (NAME and HASH are cut from the left, RIGHTS from the right). RIGHTS are letters: r read,
// w write (STOR, APPE, STOU), d delete (DELE, RMD), n rename, m mkdir; "-" for none.
// Blank lines and lines starting with '#' are skipped.
FtpRights parse_rights(const std::string& text, const std::string& where) {
  FtpRights rights{false, false, false, false, false};
  if (text == "-") return rights;
  for (char c : text) {
    switch (c) {
      case 'r':
        rights.read = true;
        break;
      case 'w':
        rights.write = true;
        break;
      case 'd':
        rights.remove = true;
        break;
      case 'n':
        rights.rename = true;
        break;
      case 'm':
        rights.mkdir = true;
        break;
      default:
        throw std::runtime_error(where + ": unknown right '" + std::string(1, c) +
                                 "' (use r, w, d, n, m or -)");
    }
  }
  return rights;
}

}  // namespace

FtpUser parse_user_option(const std::string& spec, const std::filesystem::path& default_root) {
  auto c1 = spec.find(':');
  if (c1 == std::string::npos || c1 == 0) {
    throw std::runtime_error("--user wants NAME:PASSWORD or NAME:PASSWORD:ROOT:RIGHTS, got '" +
                             spec + "'");
  }
  FtpUser user;
  user.name = spec.substr(0, c1);
  user.root = default_root;
  user.rights = FtpRights{true, true, true, true, true};
  auto c2 = spec.find(':', c1 + 1);
  auto c3 = c2 == std::string::npos ? c2 : spec.find(':', c2 + 1);
  if (c3 == std::string::npos) {
    user.plain_password = spec.substr(c1 + 1);
    return user;
  }
  auto last = spec.rfind(':');
  std::string where = "--user " + user.name;
  user.plain_password = spec.substr(c1 + 1, c2 - c1 - 1);
  user.root = spec.substr(c2 + 1, last - c2 - 1);
  if (user.root.empty()) throw std::runtime_error(where + ": empty root");
  if (last + 1 == spec.size()) throw std::runtime_error(where + ": empty rights (use -)");
  user.rights = parse_rights(spec.substr(last + 1), where);
  return user;
}

std::vector<FtpUser> load_users_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read users file " + path.string());
  return parse_users_file(in, path);
}

std::vector<FtpUser> parse_users_file(std::istream& in, const std::filesystem::path& path) {
  std::vector<FtpUser> users;
  std::set<std::string> names;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string where = path.string() + ":" + std::to_string(number);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    auto c1 = line.find(':');
    auto c2 = c1 == std::string::npos ? c1 : line.find(':', c1 + 1);
    auto c3 = line.rfind(':');
    if (c1 == std::string::npos || c2 == std::string::npos || c3 <= c2) {
      throw std::runtime_error(where + ": expected NAME:HASH:ROOT:RIGHTS");
    }
    FtpUser user;
    user.name = line.substr(0, c1);
    user.password_hash = line.substr(c1 + 1, c2 - c1 - 1);
    std::filesystem::path root = line.substr(c2 + 1, c3 - c2 - 1);
    user.rights = parse_rights(line.substr(c3 + 1), where);
    if (user.name.empty() || user.name.find_first_of(" \t") != std::string::npos) {
      throw std::runtime_error(where + ": empty name or name with spaces");
    }
    if (user.password_hash.empty() || user.password_hash[0] != '$') {
      throw std::runtime_error(where +
                               ": the hash must be a crypt(3) hash such as $y$... (see "
                               "netmodels passwd)");
    }
    if (root.empty()) throw std::runtime_error(where + ": empty root");
    user.root = root.is_relative() ? path.parent_path() / root : root;
    if (!names.insert(user.name).second) {
      throw std::runtime_error(where + ": user '" + user.name + "' is defined twice");
    }
    users.push_back(std::move(user));
  }
  return users;
}

}  // namespace nm
