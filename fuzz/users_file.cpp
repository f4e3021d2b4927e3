// The users-file parser (services/ftp/users_file.hpp): any text either parses or throws
// std::runtime_error, its one documented exception; nothing else escapes, nothing crashes.
// Checks on success: every user has a name without blanks or ':', a crypt(3)-shaped hash without
// ':', a root (relative roots anchored at the file's folder) and unique names; and the users
// round-trip: printed back as NAME:HASH:ROOT:RIGHTS (what `netmodels passwd` prints) they parse
// to the same users.

#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "services/ftp/users_file.hpp"

namespace {

using nm::fuzz::printable;

const std::filesystem::path kPath = "/fuzz/etc/users";

bool parse(const std::string& text, std::vector<nm::FtpUser>* users) {
  std::istringstream in(text);
  try {
    *users = nm::parse_users_file(in, kPath);
    return true;
  } catch (const std::runtime_error& e) {
    NM_FUZZ_CHECK(std::string(e.what()).rfind(kPath.string() + ":", 0) == 0,
                  "message without the file and line: %s", printable(e.what()).c_str());
    return false;
  }
}

std::string rights_text(const nm::FtpRights& r) {
  std::string s;
  if (r.read) s += 'r';
  if (r.write) s += 'w';
  if (r.remove) s += 'd';
  if (r.rename) s += 'n';
  if (r.mkdir) s += 'm';
  return s.empty() ? "-" : s;
}

bool same(const nm::FtpUser& a, const nm::FtpUser& b) {
  return a.name == b.name && a.password_hash == b.password_hash && a.root == b.root &&
         rights_text(a.rights) == rights_text(b.rights);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<nm::FtpUser> users;
  if (!parse(text, &users)) return 0;
  std::set<std::string> names;
  std::string printed;
  for (const auto& u : users) {
    NM_FUZZ_CHECK(!u.name.empty() && u.name.find_first_of(" \t:\n") == std::string::npos,
                  "bad name '%s'", printable(u.name).c_str());
    NM_FUZZ_CHECK(names.insert(u.name).second, "name '%s' twice", printable(u.name).c_str());
    NM_FUZZ_CHECK(!u.password_hash.empty() && u.password_hash[0] == '$' &&
                      u.password_hash.find_first_of(":\n") == std::string::npos,
                  "bad hash '%s'", printable(u.password_hash).c_str());
    NM_FUZZ_CHECK(!u.plain_password, "a users file never holds a plain password");
    NM_FUZZ_CHECK(u.root.is_absolute(), "root '%s' not anchored",
                  printable(u.root.string()).c_str());
    NM_FUZZ_CHECK(u.root.string().find('\n') == std::string::npos, "newline in root");
    printed +=
        u.name + ":" + u.password_hash + ":" + u.root.string() + ":" + rights_text(u.rights) + "\n";
  }
  std::vector<nm::FtpUser> again;
  NM_FUZZ_CHECK(parse(printed, &again), "printed users do not parse:\n%s",
                printable(printed).c_str());
  NM_FUZZ_CHECK(again.size() == users.size(), "%zu users, %zu after a round trip", users.size(),
                again.size());
  for (size_t i = 0; i < users.size(); ++i) {
    NM_FUZZ_CHECK(same(users[i], again[i]), "user %zu changed in a round trip: '%s'", i,
                  printable(users[i].name).c_str());
  }
  return 0;
}
