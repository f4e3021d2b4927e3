#pragma once

#include <string_view>

#include "services/ftp/ftp_config.hpp"

namespace nm::ftp {

// "anonymous" and "ftp", any case.
bool is_anonymous_name(std::string_view name);

// The configured user of that name, or nullptr.
const FtpUser* find_user(const FtpConfig& config, std::string_view name);

// Checks a password against the user's plain password or crypt(3) hash (crypt_r: thread-safe,
// yescrypt and SHA-512 alike). Comparisons take the same time whatever matches, so timing tells
// nothing about the secret.
bool verify_password(const FtpUser& user, std::string_view password);

}  // namespace nm::ftp
