#include "net/address.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace nm {

Address::Address(const sockaddr* sa, socklen_t len) {
  len_ = std::min<socklen_t>(len, sizeof(storage_));
  std::memcpy(&storage_, sa, len_);
}

std::optional<Address> Address::from(std::string_view host, uint16_t port) {
  std::string h(host);
  if (h == "localhost") h = "127.0.0.1";
  Address a;
  auto* v4 = &a.storage_.v4;
  auto* v6 = &a.storage_.v6;
  if (inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    a.len_ = sizeof(sockaddr_in);
    return a;
  }
  if (inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    a.len_ = sizeof(sockaddr_in6);
    return a;
  }
  return std::nullopt;
}

std::optional<Address> Address::parse(std::string_view s) {
  std::string_view host;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') {
      return std::nullopt;
    }
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos || s.find(':') != colon) return std::nullopt;
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || port.empty() || value > 65535) {
    return std::nullopt;
  }
  return from(host, static_cast<uint16_t>(value));
}

bool Address::is_v4_mapped() const {
  if (!is_v6()) return false;
  auto* v6 = &storage_.v6;
  return IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr);
}

uint16_t Address::port() const {
  if (is_v4()) return ntohs(storage_.v4.sin_port);
  if (is_v6()) return ntohs(storage_.v6.sin6_port);
  return 0;
}

void Address::set_port(uint16_t port) {
  if (is_v4()) storage_.v4.sin_port = htons(port);
  if (is_v6()) storage_.v6.sin6_port = htons(port);
}

std::string Address::host() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (is_v4()) {
    inet_ntop(AF_INET, &storage_.v4.sin_addr, buf, sizeof(buf));
  } else if (is_v6()) {
    inet_ntop(AF_INET6, &storage_.v6.sin6_addr, buf, sizeof(buf));
  }
  return buf;
}

std::string Address::to_string() const {
  if (is_v6()) return "[" + host() + "]:" + std::to_string(port());
  return host() + ":" + std::to_string(port());
}

namespace {
// The four IPv4 bytes of a v4 or v4-mapped v6 address.
std::optional<uint32_t> ipv4_of(const sockaddr* s) {
  if (s->sa_family == AF_INET) return reinterpret_cast<const sockaddr_in*>(s)->sin_addr.s_addr;
  if (s->sa_family == AF_INET6) {
    auto& a = reinterpret_cast<const sockaddr_in6*>(s)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&a)) {
      uint32_t v;
      std::memcpy(&v, &a.s6_addr[12], 4);
      return v;
    }
  }
  return std::nullopt;
}
}  // namespace

bool Address::same_host(const Address& other) const {
  auto a4 = ipv4_of(sa());
  auto b4 = ipv4_of(other.sa());
  if (a4 || b4) return a4 && b4 && *a4 == *b4;
  if (is_v6() && other.is_v6()) {
    return std::memcmp(&storage_.v6.sin6_addr, &other.storage_.v6.sin6_addr, sizeof(in6_addr)) == 0;
  }
  return false;
}

Address local_address(int fd) {
  Address a;
  *a.len_ptr() = a.capacity();
  if (getsockname(fd, a.sa(), a.len_ptr()) != 0) return Address();
  return a;
}

Address peer_address(int fd) {
  Address a;
  *a.len_ptr() = a.capacity();
  if (getpeername(fd, a.sa(), a.len_ptr()) != 0) return Address();
  return a;
}

}  // namespace nm
