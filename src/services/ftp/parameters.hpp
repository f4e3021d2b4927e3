#pragma once

// Pure parsers for the arguments of the data-connection and parameter commands: no session, no
// I/O, so each rule is tested on its own (tests/unit/ftp_parameters_test.cpp).

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include "net/address.hpp"

namespace nm::ftp {

// A decimal unsigned number and nothing else ("" and "12x" are not numbers).
std::optional<uint64_t> parse_u64(std::string_view text);

// PORT h1,h2,h3,h4,p1,p2 (RFC 959): six numbers 0-255, spaces allowed around each.
std::optional<Address> parse_port_argument(std::string_view arg);

// EPRT |proto|host|port| (RFC 2428), where '|' is whatever character comes first. Protocol 1 is
// IPv4, 2 is IPv6, and the host must be of that family.
enum class EprtError {
  kMalformed,            // 501
  kUnsupportedProtocol,  // 522: a protocol number other than 1 or 2
};
std::variant<Address, EprtError> parse_eprt_argument(std::string_view arg);

// TYPE: I (and L 8) is binary, A (and A N) is ASCII, any case; other A, E and L forms are real
// types this server does not do (504); anything else is not a type (501).
enum class TypeArgument { kBinary, kAscii, kUnsupported, kInvalid };
TypeArgument parse_type_argument(std::string_view arg);

}  // namespace nm::ftp
