// The pure argument parsers of PORT, EPRT, TYPE and REST (services/ftp/parameters.hpp), each run
// on the whole input.
//   parse_u64:  agrees with a plain reference (decimal digits only, no overflow) and round-trips
//               through std::to_string.
//   PORT:       agrees with a reference reading of RFC 959 (five commas, six numbers 0-255 with
//               spaces around), and the address round-trips: printed back as h1,h2,h3,h4,p1,p2
//               it parses to the same address.
//   EPRT:       a parsed address has the family its protocol names and a port 1-65535, and
//               round-trips through "|1|host|port|" / "|2|host|port|".
//   TYPE:       the answer does not depend on the case of the argument.
//   MFMT time:  a parsed time prints back (gmtime) as its own 14 digits (second 60 as 59), with
//               nanoseconds under a second.
//   octal mode: a parsed mode is at most 07777 and prints back (%o) as the digits sent.
//   RANG:       a range has start <= end and round-trips through "start end".
//   MFF facts:  every name is lower case and the facts rebuild the argument, names aside.

#include <cctype>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fuzz_support.hpp"
#include "services/ftp/parameters.hpp"

namespace {

using nm::fuzz::printable;
namespace ftp = nm::ftp;

std::optional<uint64_t> reference_u64(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    auto d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

// The six numbers of a PORT argument, or nothing.
std::optional<std::vector<unsigned>> reference_port(std::string_view arg) {
  std::vector<unsigned> v;
  size_t start = 0;
  for (;;) {
    auto comma = arg.find(',', start);
    auto field = arg.substr(start, comma == std::string_view::npos ? arg.npos : comma - start);
    while (!field.empty() && field.front() == ' ') field.remove_prefix(1);
    while (!field.empty() && field.back() == ' ') field.remove_suffix(1);
    auto n = reference_u64(field);
    if (!n || *n > 255) return std::nullopt;
    v.push_back(static_cast<unsigned>(*n));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (v.size() != 6) return std::nullopt;
  return v;
}

bool same_address(const nm::Address& a, const nm::Address& b) {
  return a.family() == b.family() && a.host() == b.host() && a.port() == b.port();
}

std::string port_text(const nm::Address& a) {
  std::string host = a.host();
  for (auto& c : host) {
    if (c == '.') c = ',';
  }
  return host + "," + std::to_string(a.port() >> 8) + "," + std::to_string(a.port() & 0xff);
}

void check_u64(std::string_view arg) {
  auto v = ftp::parse_u64(arg);
  auto r = reference_u64(arg);
  NM_FUZZ_CHECK(v == r, "parse_u64('%s') disagrees with the reference", printable(arg).c_str());
  if (v) {
    NM_FUZZ_CHECK(ftp::parse_u64(std::to_string(*v)) == v, "parse_u64 round trip of %llu",
                  static_cast<unsigned long long>(*v));
  }
}

void check_port(std::string_view arg) {
  auto parsed = ftp::parse_port_argument(arg);
  auto reference = reference_port(arg);
  NM_FUZZ_CHECK(parsed.has_value() == reference.has_value(), "PORT '%s': parser %s, reference %s",
                printable(arg).c_str(), parsed ? "accepts" : "refuses",
                reference ? "accepts" : "refuses");
  if (!parsed) return;
  const auto& v = *reference;
  std::string host = std::to_string(v[0]) + "." + std::to_string(v[1]) + "." +
                     std::to_string(v[2]) + "." + std::to_string(v[3]);
  NM_FUZZ_CHECK(parsed->is_v4() && parsed->host() == host && parsed->port() == v[4] * 256 + v[5],
                "PORT '%s' gave %s", printable(arg).c_str(), parsed->to_string().c_str());
  auto text = port_text(*parsed);
  auto again = ftp::parse_port_argument(text);
  NM_FUZZ_CHECK(again && same_address(*again, *parsed), "PORT round trip: '%s' -> %s -> '%s'",
                printable(arg).c_str(), parsed->to_string().c_str(), text.c_str());
}

void check_eprt(std::string_view arg) {
  auto parsed = ftp::parse_eprt_argument(arg);
  const auto* a = std::get_if<nm::Address>(&parsed);
  if (a == nullptr) return;
  NM_FUZZ_CHECK(a->is_v4() || a->is_v6(), "EPRT '%s': no family", printable(arg).c_str());
  NM_FUZZ_CHECK(a->port() != 0, "EPRT '%s': port 0", printable(arg).c_str());
  std::string text =
      std::string(a->is_v4() ? "|1|" : "|2|") + a->host() + "|" + std::to_string(a->port()) + "|";
  auto again = ftp::parse_eprt_argument(text);
  const auto* b = std::get_if<nm::Address>(&again);
  NM_FUZZ_CHECK(b && same_address(*a, *b), "EPRT round trip: '%s' -> %s -> '%s'",
                printable(arg).c_str(), a->to_string().c_str(), text.c_str());
}

void check_type(std::string_view arg) {
  std::string upper(arg), lower(arg);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto t = ftp::parse_type_argument(arg);
  NM_FUZZ_CHECK(t == ftp::parse_type_argument(upper) && t == ftp::parse_type_argument(lower),
                "TYPE '%s' depends on case", printable(arg).c_str());
}

void check_ftp_time(std::string_view arg) {
  auto t = ftp::parse_ftp_time(arg);
  if (!t) return;
  NM_FUZZ_CHECK(t->tv_nsec >= 0 && t->tv_nsec < 1000000000, "MFMT '%s': nanoseconds %ld",
                printable(arg).c_str(), static_cast<long>(t->tv_nsec));
  struct tm tm {};
  ::gmtime_r(&t->tv_sec, &tm);
  char digits[32];
  std::snprintf(digits, sizeof(digits), "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  std::string sent(arg.substr(0, 14));
  if (sent.substr(12, 2) == "60") sent.replace(12, 2, "59");
  NM_FUZZ_CHECK(sent == digits, "MFMT '%s' printed back as %s", printable(arg).c_str(), digits);
}

void check_octal_mode(std::string_view arg) {
  auto mode = ftp::parse_octal_mode(arg);
  if (!mode) return;
  char text[16];
  std::snprintf(text, sizeof(text), "%o", static_cast<unsigned>(*mode));
  std::string_view sent = arg;
  while (sent.size() > 1 && sent.front() == '0') sent.remove_prefix(1);
  NM_FUZZ_CHECK(*mode <= 07777 && sent == text, "mode '%s' parsed as %s", printable(arg).c_str(),
                text);
}

void check_rang(std::string_view arg) {
  auto parsed = ftp::parse_rang_argument(arg);
  if (!parsed || !std::holds_alternative<ftp::ByteRange>(*parsed)) return;
  auto range = std::get<ftp::ByteRange>(*parsed);
  NM_FUZZ_CHECK(range.start <= range.end, "RANG '%s': start past end", printable(arg).c_str());
  auto text = std::to_string(range.start) + " " + std::to_string(range.end);
  auto again = ftp::parse_rang_argument(text);
  NM_FUZZ_CHECK(again && std::holds_alternative<ftp::ByteRange>(*again) &&
                    std::get<ftp::ByteRange>(*again).start == range.start &&
                    std::get<ftp::ByteRange>(*again).end == range.end,
                "RANG round trip: '%s' -> '%s'", printable(arg).c_str(), text.c_str());
}

void check_mff_facts(std::string_view arg) {
  auto facts = ftp::parse_mff_facts(arg);
  if (!facts) return;
  std::string rebuilt;
  for (const auto& [name, value] : *facts) {
    for (char c : name) {
      NM_FUZZ_CHECK(std::tolower(static_cast<unsigned char>(c)) == static_cast<unsigned char>(c),
                    "MFF '%s': name not lower case", printable(arg).c_str());
    }
    rebuilt += name + "=" + value + ";";
  }
  std::string lowered(arg);
  for (size_t i = 0, start = 0; i < lowered.size(); ++i) {
    if (lowered[i] == ';') start = i + 1;
    bool in_name = lowered.find('=', start) > i;
    if (in_name)
      lowered[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(lowered[i])));
  }
  NM_FUZZ_CHECK(rebuilt == lowered, "MFF '%s' rebuilt as '%s'", printable(arg).c_str(),
                printable(rebuilt).c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view arg(reinterpret_cast<const char*>(data), size);
  check_u64(arg);
  check_port(arg);
  check_eprt(arg);
  check_type(arg);
  check_ftp_time(arg);
  check_octal_mode(arg);
  check_rang(arg);
  check_mff_facts(arg);
  return 0;
}
