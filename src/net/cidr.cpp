#include "net/cidr.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace nm {
namespace {

bool prefix_matches(const unsigned char* a, const unsigned char* b, unsigned bits) {
  size_t whole = bits / 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  unsigned left = bits % 8;
  if (left == 0) return true;
  auto mask = static_cast<unsigned char>(0xff << (8 - left));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

std::optional<Cidr> Cidr::parse(std::string_view text) {
  auto slash = text.find('/');
  std::string host(text.substr(0, slash));
  Cidr c;
  if (::inet_pton(AF_INET, host.c_str(), c.bytes_) == 1) {
    c.family_ = AF_INET;
  } else if (::inet_pton(AF_INET6, host.c_str(), c.bytes_) == 1) {
    c.family_ = AF_INET6;
  } else {
    return std::nullopt;
  }
  unsigned most = c.family_ == AF_INET ? 32 : 128;
  c.prefix_ = most;
  if (slash != std::string_view::npos) {
    auto bits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), c.prefix_);
    if (bits.empty() || ec != std::errc() || end != bits.data() + bits.size() || c.prefix_ > most) {
      return std::nullopt;
    }
  }
  return c;
}

std::optional<std::vector<Cidr>> Cidr::parse_list(std::string_view text) {
  std::vector<Cidr> list;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    auto cidr = parse(item);
    if (!cidr) return std::nullopt;
    list.push_back(*cidr);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return list;
}

bool Cidr::contains(const Address& address) const {
  if (address.is_v4() && family_ == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(address.sa());
    return prefix_matches(reinterpret_cast<const unsigned char*>(&sin->sin_addr), bytes_, prefix_);
  }
  if (!address.is_v6()) return false;
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(address.sa());
  const auto* raw = reinterpret_cast<const unsigned char*>(&sin6->sin6_addr);
  if (family_ == AF_INET6) return prefix_matches(raw, bytes_, prefix_);
  // An IPv4 network and an IPv4-mapped peer (::ffff:a.b.c.d): compare the last four bytes.
  return address.is_v4_mapped() && prefix_matches(raw + 12, bytes_, prefix_);
}

std::string Cidr::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family_, bytes_, text, sizeof(text));
  return std::string(text) + "/" + std::to_string(prefix_);
}

bool any_contains(const std::vector<Cidr>& networks, const Address& address) {
  for (const auto& network : networks) {
    if (network.contains(address)) return true;
  }
  return false;
}

}  // namespace nm
