#include "services/ftp/auth.hpp"

#include <crypt.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "services/ftp/users_table.hpp"

namespace nm::ftp {
namespace {

bool equal_constant_time(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// crypt_r of `password` with `setting` (a hash or a salt), or nullopt when it fails.
std::optional<std::string> crypt_with(std::string_view password, const char* setting) {
  if (password.find('\0') != std::string_view::npos ||
      password.size() >= CRYPT_MAX_PASSPHRASE_SIZE) {
    return std::nullopt;
  }
  // crypt_data is about 32 KiB: too big for a worker thread's stack to take lightly.
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  std::string phrase(password);
  const char* hashed = ::crypt_r(phrase.c_str(), setting, data.get());
  // A failed crypt returns NULL or a string starting with '*', which never equals a real hash.
  if (hashed == nullptr || hashed[0] == '*') return std::nullopt;
  return std::string(hashed);
}

}  // namespace

bool is_anonymous_name(std::string_view name) {
  return iequals(name, "anonymous") || iequals(name, "ftp");
}

std::optional<FtpUser> find_user(const FtpConfig& config, std::string_view name) {
  for (const auto& user : config.users) {
    if (user.name == name) return user;
  }
  if (config.users_file) {
    for (const auto& user : *config.users_file->current()) {
      if (user.name == name) return user;
    }
  }
  return std::nullopt;
}

bool verify_password(const FtpUser& user, std::string_view password) {
  if (user.plain_password) return equal_constant_time(*user.plain_password, password);
  return verify_password_hash(password, user.password_hash);
}

bool verify_password_hash(std::string_view password, const std::string& hash) {
  if (hash.empty()) return false;
  auto hashed = crypt_with(password, hash.c_str());
  return hashed && equal_constant_time(*hashed, hash);
}

std::optional<std::string> hash_password(std::string_view password, bool sha512) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  // NULL random bytes: libxcrypt draws them from the kernel itself.
  if (::crypt_gensalt_rn(sha512 ? "$6$" : "$y$", 0, nullptr, 0, salt, sizeof(salt)) == nullptr) {
    return std::nullopt;
  }
  return crypt_with(password, salt);
}

}  // namespace nm::ftp
