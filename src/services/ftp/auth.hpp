#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "services/ftp/ftp_config.hpp"

namespace nm::ftp {

// "anonymous" and "ftp", any case.
bool is_anonymous_name(std::string_view name);

// A copy of the configured user of that name (--user first, then the --users file as of the
// latest SIGHUP), or nullopt.
std::optional<FtpUser> find_user(const FtpConfig& config, std::string_view name);

// Checks a password against the user's plain password or crypt(3) hash (crypt_r: thread-safe,
// yescrypt and SHA-512 alike). Comparisons take the same time whatever matches, so timing tells
// nothing about the secret.
bool verify_password(const FtpUser& user, std::string_view password);

// The crypt(3) half of verify_password: tens of milliseconds of CPU for yescrypt, so the session
// runs it as a WorkRequest. Pure and thread-safe.
bool verify_password_hash(std::string_view password, const std::string& hash);

// A new crypt(3) hash of `password` with a random salt from the kernel: yescrypt ("$y$"), or
// SHA-512 ("$6$") when `sha512`. nullopt when libxcrypt refuses (errno says why).
std::optional<std::string> hash_password(std::string_view password, bool sha512);

}  // namespace nm::ftp
