#pragma once

// Pure parsers for the arguments of the data-connection and parameter commands: no session, no
// I/O, so each rule is tested on its own (tests/unit/ftp_parameters_test.cpp).

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

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

// RFC 3659's time-val, as MFMT and MFF's modify= carry it: "YYYYMMDDHHMMSS[.fraction]" in UTC.
// Every field must be in range (the day for its month, leap years included). Second 60 (a leap
// second) is taken as 59, so the time stays in the minute the client named. The fraction's first
// nine digits are the nanoseconds; more digits are allowed and dropped.
std::optional<struct timespec> parse_ftp_time(std::string_view text);

// The first word of an argument and the rest after one space ("MFMT time path", "SITE CHMOD
// mode path"); nullopt when there is no space or either part is empty. The rest is kept as is:
// paths may hold spaces.
std::optional<std::pair<std::string_view, std::string_view>> split_first_word(std::string_view arg);

// MFF's facts, "name=value;name=value;" (each one ends with ';'): the names lower-cased (facts
// are case-insensitive, RFC 3659), the values as sent. nullopt when malformed: no facts, a fact
// without '=' or a name, a missing ';', or a space inside.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_mff_facts(
    std::string_view facts);

// An octal file mode, as SITE CHMOD and MFF's UNIX.mode= carry it: one to four octal digits, so
// at most 07777. Which bits a user may set is the session's business, not the parser's.
std::optional<mode_t> parse_octal_mode(std::string_view text);

// RANG start end (draft-bryan-ftpext-hash): two decimal byte offsets with start <= end, the
// range [start, end). "RANG 1 0" is the draft's way to clear a range: kReset.
struct ByteRange {
  uint64_t start = 0;
  uint64_t end = 0;
};
enum class RangReset { kReset };
std::optional<std::variant<ByteRange, RangReset>> parse_rang_argument(std::string_view arg);

}  // namespace nm::ftp
