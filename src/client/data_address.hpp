#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "net/address.hpp"

namespace nm::client {

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

// "227 Entering Passive Mode (127,0,0,1,200,10)." -> 127.0.0.1 and 51210. The parentheses are
// optional (RFC 1123 4.1.2.6 tells clients to scan for the six numbers).
std::optional<HostPort> parse_pasv_reply(std::string_view line);
// "229 Entering Extended Passive Mode (|||6446|)" -> 6446; the delimiter may be any printable
// character but must be the same four times (RFC 2428).
std::optional<uint16_t> parse_epsv_reply(std::string_view line);
// The argument of PORT for an IPv4 address: "127,0,0,1,200,10".
std::string port_argument(const Address& address);
// The argument of EPRT: "|1|127.0.0.1|51210|" or "|2|::1|51210|".
std::string eprt_argument(const Address& address);

}  // namespace nm::client
