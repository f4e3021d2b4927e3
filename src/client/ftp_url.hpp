#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nm::client {

// How the control connection is protected: chosen by the URL scheme and --tls / --no-tls.
enum class TlsMode {
  kOff,       // --no-tls: clear text, whatever the server offers
  kOptional,  // ftp://: TLS when the server's FEAT offers AUTH TLS, clear text otherwise
  kExplicit,  // ftpes:// or --tls: AUTH TLS is required
  kImplicit,  // ftps://: TLS from the first byte (port 990)
};

// Where to connect and as whom.
struct FtpTarget {
  std::string user;  // empty: anonymous
  std::optional<std::string> password;
  std::string host;  // a name or a numeric address, without brackets
  uint16_t port = 21;
  std::string path;  // from a URL, decoded; relative to the login folder unless it starts with /
  TlsMode tls = TlsMode::kOptional;  // from the URL's scheme
};

// "%41b" -> "Ab". Fails on a bad escape and on control characters (CR, LF, NUL), which would
// let a URL smuggle a second command onto the control connection.
std::optional<std::string> percent_decode(std::string_view text);
// "[USER[:PASSWORD]@]HOST[:PORT]", HOST possibly "[v6]"; taken literally, not decoded.
std::optional<FtpTarget> parse_target(std::string_view text);
// "ftp://[USER[:PASSWORD]@]HOST[:PORT][/PATH]" (RFC 1738), with user, password and path decoded;
// also "ftpes://" (explicit TLS, port 21) and "ftps://" (implicit TLS, port 990), as curl and
// lftp name them.
std::optional<FtpTarget> parse_ftp_url(std::string_view url);
bool looks_like_ftp_url(std::string_view text);

}  // namespace nm::client
