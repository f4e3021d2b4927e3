#include "services/ftp/users_file.hpp"

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "net/byte_size.hpp"

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
//
// After RIGHTS, separated by spaces, come optional KEY=VALUE limits (a line without them is the
// older format, read as before; rights letters and sizes never hold ':' or a space, so RIGHTS and
// the limits stay what follows the last ':'):
//     rate=BYTES          this user's data connections, bytes a second (K, M, G suffixes)
//     quota=BYTES[,FILES] what the user may store under ROOT: bytes, and files when given
// e.g. "alice:$y$...:/srv/alice:rwdnm rate=2M quota=10G,5000".
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

uint64_t parse_limit_size(std::string_view text, const std::string& where, const char* key) {
  auto bytes = parse_byte_size(text);
  if (!bytes) {
    throw std::runtime_error(where + ": " + key + " wants bytes with an optional K, M or G, got '" +
                             std::string(text) + "'");
  }
  return *bytes;
}

void parse_limit(std::string_view option, const std::string& where, FtpUser* user) {
  auto equals = option.find('=');
  std::string_view key = option.substr(0, equals);
  std::string_view value = equals == std::string_view::npos ? "" : option.substr(equals + 1);
  if (key == "rate") {
    user->max_rate = parse_limit_size(value, where, "rate=");
    if (user->max_rate == 0) throw std::runtime_error(where + ": rate= must be above 0");
    return;
  }
  if (key == "quota") {
    ftp::QuotaLimits quota;
    auto comma = value.find(',');
    quota.bytes = parse_limit_size(value.substr(0, comma), where, "quota=");
    if (comma != std::string_view::npos) {
      auto files = value.substr(comma + 1);
      auto [end, ec] = std::from_chars(files.data(), files.data() + files.size(), quota.files);
      if (ec != std::errc() || end != files.data() + files.size() || files.empty()) {
        throw std::runtime_error(where + ": quota= wants BYTES[,FILES], got '" +
                                 std::string(value) + "'");
      }
    }
    user->quota = quota;
    return;
  }
  throw std::runtime_error(where + ": unknown option '" + std::string(option) +
                           "' (use rate= or quota=)");
}

// What follows the last ':': the rights, then any limits.
void parse_rights_and_limits(const std::string& text, const std::string& where, FtpUser* user) {
  auto space = text.find_first_of(" \t");
  user->rights = parse_rights(text.substr(0, space), where);
  if (space == std::string::npos) return;
  std::istringstream words(text.substr(space));
  for (std::string option; words >> option;) parse_limit(option, where, user);
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
  parse_rights_and_limits(spec.substr(last + 1), where, &user);
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
    parse_rights_and_limits(line.substr(c3 + 1), where, &user);
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
