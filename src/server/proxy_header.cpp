#include "server/proxy_header.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>

namespace nm {
namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr std::string_view kV2Signature{"\r\n\r\n\0\r\nQUIT\n", 12};
constexpr size_t kV2Fixed = 16;

// True when `have` (possibly short) agrees with the start of `expected`.
bool starts_like(std::string_view have, std::string_view expected) {
  size_t n = std::min(have.size(), expected.size());
  return have.substr(0, n) == expected.substr(0, n);
}

// A v1 port: decimal, 0-65535, no sign, no leading zero (the spec's form; anything else is a
// balancer bug or a forgery).
std::optional<uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

// A v1 address of `family`, numeric, then its port.
std::optional<Address> v1_address(int family, std::string_view host, std::string_view port) {
  auto p = parse_port(port);
  if (!p || host.empty() || host.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char text[INET6_ADDRSTRLEN] = {};
  std::memcpy(text, host.data(), host.size());
  if (family == AF_INET) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    if (::inet_pton(AF_INET, text, &sa.sin_addr) != 1) return std::nullopt;
    sa.sin_port = htons(*p);
    return Address(reinterpret_cast<const sockaddr*>(&sa), sizeof(sa));
  }
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  if (::inet_pton(AF_INET6, text, &sa.sin6_addr) != 1) return std::nullopt;
  sa.sin6_port = htons(*p);
  return Address(reinterpret_cast<const sockaddr*>(&sa), sizeof(sa));
}

uint16_t be16(const char* p) {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1]));
}

// A v2 address block: address bytes (4 or 16) of source then destination, then the two ports.
void v2_addresses(int family, const char* block, Address* source, Address* destination) {
  size_t n = family == AF_INET ? 4 : 16;
  const char* ports = block + 2 * n;
  for (int i = 0; i < 2; ++i) {
    Address* out = i == 0 ? source : destination;
    uint16_t port = be16(ports + 2 * i);
    if (family == AF_INET) {
      sockaddr_in sa{};
      sa.sin_family = AF_INET;
      std::memcpy(&sa.sin_addr, block + i * n, n);
      sa.sin_port = htons(port);
      *out = Address(reinterpret_cast<const sockaddr*>(&sa), sizeof(sa));
    } else {
      sockaddr_in6 sa{};
      sa.sin6_family = AF_INET6;
      std::memcpy(&sa.sin6_addr, block + i * n, n);
      sa.sin6_port = htons(port);
      *out = Address(reinterpret_cast<const sockaddr*>(&sa), sizeof(sa));
    }
  }
}

}  // namespace

ProxyHeaderParser::State ProxyHeaderParser::feed(std::string_view bytes) {
  if (state_ != State::kNeedMore) return state_;
  buffer_.append(bytes);
  return parse();
}

ProxyHeaderParser::State ProxyHeaderParser::parse() {
  if (buffer_.empty()) return State::kNeedMore;
  if (buffer_[0] == 'P') {
    if (accept_ == Accept::kV2) return fail("v1-not-accepted");
    return parse_v1();
  }
  if (buffer_[0] == '\r') {
    if (accept_ == Accept::kV1) return fail("v2-not-accepted");
    return parse_v2();
  }
  return fail("bad-signature");
}

ProxyHeaderParser::State ProxyHeaderParser::parse_v1() {
  std::string_view all = buffer_;
  if (!starts_like(all, kV1Prefix)) return fail("bad-signature");
  auto lf = all.find('\n');
  if (lf == std::string_view::npos) {
    // Without its end the line may not yet be over the limit; a CR may still be waiting for its
    // LF, but a line that already fills kMaxV1 cannot end in time.
    return all.size() >= kMaxV1 ? fail("oversized") : State::kNeedMore;
  }
  if (lf + 1 > kMaxV1) return fail("oversized");
  if (lf == 0 || all[lf - 1] != '\r') return fail("malformed");
  std::string_view line = all.substr(kV1Prefix.size(), lf - 1 - kV1Prefix.size());
  // The fields: protocol, then (TCP4 / TCP6) source, destination, source port, destination port,
  // each after exactly one space.
  std::string_view field[5];
  size_t count = 0;
  size_t pos = 0;
  while (count < 5) {
    size_t space = line.find(' ', pos);
    field[count++] = line.substr(pos, space == std::string_view::npos ? space : space - pos);
    if (space == std::string_view::npos) {
      pos = line.size();
      break;
    }
    pos = space + 1;
    if (count == 1 && field[0] == "UNKNOWN") break;  // the rest of the line is to be ignored
  }
  if (field[0] == "UNKNOWN") {
    header_.version = 1;
    header_.local = true;
    return done(lf + 1);
  }
  int family = field[0] == "TCP4" ? AF_INET : field[0] == "TCP6" ? AF_INET6 : 0;
  if (family == 0) return fail("bad-protocol");
  if (count != 5 || pos != line.size() || line.find(' ', pos) != std::string_view::npos) {
    return fail("malformed");
  }
  auto source = v1_address(family, field[1], field[3]);
  auto destination = v1_address(family, field[2], field[4]);
  if (!source || !destination) return fail("bad-address");
  header_.version = 1;
  header_.source = *source;
  header_.destination = *destination;
  return done(lf + 1);
}

ProxyHeaderParser::State ProxyHeaderParser::parse_v2() {
  std::string_view all = buffer_;
  if (!starts_like(all, kV2Signature)) return fail("bad-signature");
  if (all.size() < kV2Fixed) return State::kNeedMore;
  auto version_command = static_cast<uint8_t>(all[12]);
  auto family_transport = static_cast<uint8_t>(all[13]);
  size_t length = be16(all.data() + 14);
  if ((version_command >> 4) != 2) return fail("bad-version");
  unsigned command = version_command & 0x0f;
  if (command > 1) return fail("bad-command");
  unsigned family = family_transport >> 4;
  unsigned transport = family_transport & 0x0f;
  if (family > 3 || transport > 2) return fail("bad-family");
  if (all.size() < kV2Fixed + length) return State::kNeedMore;
  header_.version = 2;
  // LOCAL: the balancer speaking for itself (a health check); addresses, if any, are ignored.
  // PROXY over something that is not TCP/IP: nothing to name a client by, so the same.
  bool inet = (family == 1 || family == 2) && transport == 1;
  if (command == 0 || !inet) {
    header_.local = true;
    return done(kV2Fixed + length);
  }
  int af = family == 1 ? AF_INET : AF_INET6;
  size_t need = af == AF_INET ? 12 : 36;
  if (length < need) return fail("truncated-addresses");
  v2_addresses(af, all.data() + kV2Fixed, &header_.source, &header_.destination);
  // What follows the addresses, up to `length`, is TLVs: nothing here needs them.
  return done(kV2Fixed + length);
}

ProxyHeaderParser::State ProxyHeaderParser::fail(const char* why) {
  error_ = why;
  buffer_.clear();
  buffer_.shrink_to_fit();
  header_ = Header{};
  return state_ = State::kFailed;
}

ProxyHeaderParser::State ProxyHeaderParser::done(size_t header_size) {
  rest_ = buffer_.substr(header_size);
  buffer_.clear();
  buffer_.shrink_to_fit();
  return state_ = State::kDone;
}

}  // namespace nm
