#include "client/ftp_url.hpp"

#include <cctype>
#include <charconv>

namespace nm::client {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool has_control_characters(std::string_view s) {
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return true;
  }
  return false;
}

// "host", "host:port", "[v6]", "[v6]:port"; a bare v6 address (two colons or more) has no port.
bool parse_host_port(std::string_view text, FtpTarget* out) {
  std::string_view host = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return false;
    host = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      if (port.empty()) return false;
    }
  } else if (auto colon = text.find(':'); colon != std::string_view::npos) {
    if (text.find(':', colon + 1) == std::string_view::npos) {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
      if (port.empty()) return false;
    }
  }
  if (host.empty() || has_control_characters(host)) return false;
  if (host.find_first_of(" /@") != std::string_view::npos) return false;
  out->host = std::string(host);
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return false;
    }
    out->port = static_cast<uint16_t>(value);
  }
  return true;
}

struct Scheme {
  std::string_view prefix;
  TlsMode tls;
  uint16_t port;
};
constexpr Scheme kSchemes[] = {{"ftp://", TlsMode::kOptional, 21},
                               {"ftpes://", TlsMode::kExplicit, 21},
                               {"ftps://", TlsMode::kImplicit, 990}};

std::optional<Scheme> url_scheme(std::string_view text) {
  for (const auto& scheme : kSchemes) {
    if (text.size() < scheme.prefix.size()) continue;
    bool same = true;
    for (size_t i = 0; i < scheme.prefix.size(); ++i) {
      same = same && std::tolower(static_cast<unsigned char>(text[i])) == scheme.prefix[i];
    }
    if (same) return scheme;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int hi = hex_value(text[i + 1]);
    int lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  if (has_control_characters(out)) return std::nullopt;
  return out;
}

std::optional<FtpTarget> parse_target(std::string_view text) {
  FtpTarget target;
  // The user part ends at the last '@': a password may hold '@' itself.
  if (auto at = text.rfind('@'); at != std::string_view::npos) {
    auto credentials = text.substr(0, at);
    text = text.substr(at + 1);
    auto colon = credentials.find(':');
    target.user = std::string(credentials.substr(0, colon));
    if (colon != std::string_view::npos) {
      target.password = std::string(credentials.substr(colon + 1));
    }
    if (target.user.empty() || has_control_characters(credentials)) return std::nullopt;
  }
  if (!parse_host_port(text, &target)) return std::nullopt;
  return target;
}

bool looks_like_ftp_url(std::string_view text) {
  return url_scheme(text).has_value();
}

std::optional<FtpTarget> parse_ftp_url(std::string_view url) {
  auto scheme = url_scheme(url);
  if (!scheme) return std::nullopt;
  auto rest = url.substr(scheme->prefix.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  // ";type=i" selects the transfer type in RFC 1738; the client picks binary anyway.
  if (auto semi = path.rfind(";type="); semi != std::string_view::npos) path = path.substr(0, semi);

  FtpTarget target;
  target.tls = scheme->tls;
  target.port = scheme->port;
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    auto credentials = authority.substr(0, at);
    authority = authority.substr(at + 1);
    auto colon = credentials.find(':');
    auto user = percent_decode(credentials.substr(0, colon));
    if (!user || user->empty()) return std::nullopt;
    target.user = *user;
    if (colon != std::string_view::npos) {
      auto password = percent_decode(credentials.substr(colon + 1));
      if (!password) return std::nullopt;
      target.password = *password;
    }
  }
  if (!parse_host_port(authority, &target)) return std::nullopt;
  auto decoded = percent_decode(path);
  if (!decoded) return std::nullopt;
  target.path = *decoded;
  return target;
}

}  // namespace nm::client
