#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/address.hpp"

namespace nm {

// An IPv4 or IPv6 network ("10.0.0.0/8", "::1/128", or a bare address for one host), for lists
// of trusted peers. An IPv4 network also matches IPv4-mapped IPv6 addresses (a dual-stack
// listener sees IPv4 peers so). Immutable; any thread.
class Cidr {
 public:
  static std::optional<Cidr> parse(std::string_view text);
  // "10.0.0.0/8,::1": every item must parse; nullopt otherwise.
  static std::optional<std::vector<Cidr>> parse_list(std::string_view text);

  bool contains(const Address& address) const;
  std::string to_string() const;

 private:
  int family_ = 0;  // AF_INET or AF_INET6
  unsigned char bytes_[16] = {};
  unsigned prefix_ = 0;
};

// True when some network of `networks` contains `address`.
bool any_contains(const std::vector<Cidr>& networks, const Address& address);

}  // namespace nm
