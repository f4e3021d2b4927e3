#include "services/ftp/parameters.hpp"

#include <cctype>
#include <charconv>
#include <string>
#include <vector>

#include "services/ftp/command.hpp"

namespace nm::ftp {

std::optional<uint64_t> parse_u64(std::string_view text) {
  uint64_t value = 0;
  if (text.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<Address> parse_port_argument(std::string_view arg) {
  unsigned v[6] = {};
  for (size_t i = 0; i < 6; ++i) {
    auto comma = arg.find(',');
    // Exactly five commas: the last field has none after it, the others must.
    if ((comma == std::string_view::npos) != (i == 5)) return std::nullopt;
    auto field = arg.substr(0, comma);
    while (!field.empty() && field.front() == ' ') field.remove_prefix(1);
    while (!field.empty() && field.back() == ' ') field.remove_suffix(1);
    auto number = parse_u64(field);
    if (!number || *number > 255) return std::nullopt;
    v[i] = static_cast<unsigned>(*number);
    arg.remove_prefix(comma == std::string_view::npos ? arg.size() : comma + 1);
  }
  std::string host = std::to_string(v[0]) + "." + std::to_string(v[1]) + "." +
                     std::to_string(v[2]) + "." + std::to_string(v[3]);
  return Address::from(host, static_cast<uint16_t>(v[4] * 256 + v[5]));
}

std::variant<Address, EprtError> parse_eprt_argument(std::string_view arg) {
  if (arg.size() < 7) return EprtError::kMalformed;
  char d = arg[0];
  std::vector<std::string_view> fields;
  std::string_view rest = arg.substr(1);
  while (!rest.empty()) {
    auto pos = rest.find(d);
    if (pos == std::string_view::npos) break;
    fields.push_back(rest.substr(0, pos));
    rest.remove_prefix(pos + 1);
  }
  if (fields.size() != 3 || !rest.empty()) return EprtError::kMalformed;
  if (fields[0] != "1" && fields[0] != "2") return EprtError::kUnsupportedProtocol;
  auto target = Address::from(fields[1], 0);
  auto port = parse_u64(fields[2]);
  if (!target || !port || *port == 0 || *port > 65535 || (fields[0] == "1") != target->is_v4()) {
    return EprtError::kMalformed;
  }
  target->set_port(static_cast<uint16_t>(*port));
  return *target;
}

TypeArgument parse_type_argument(std::string_view arg) {
  auto u = to_upper(arg);
  if (u == "I" || u == "L 8" || u == "L8") return TypeArgument::kBinary;
  if (u == "A" || u == "A N") return TypeArgument::kAscii;
  if (!u.empty() && (u[0] == 'A' || u[0] == 'E' || u[0] == 'L')) return TypeArgument::kUnsupported;
  return TypeArgument::kInvalid;
}

namespace {

bool all_digits(std::string_view text) {
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int digits_value(std::string_view text) {
  int value = 0;
  for (char c : text) value = value * 10 + (c - '0');
  return value;
}

bool leap_year(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

}  // namespace

std::optional<struct timespec> parse_ftp_time(std::string_view text) {
  std::string_view fraction;
  if (auto dot = text.find('.'); dot != std::string_view::npos) {
    fraction = text.substr(dot + 1);
    text = text.substr(0, dot);
    if (fraction.empty() || !all_digits(fraction)) return std::nullopt;
  }
  if (text.size() != 14 || !all_digits(text)) return std::nullopt;
  int year = digits_value(text.substr(0, 4));
  int month = digits_value(text.substr(4, 2));
  int day = digits_value(text.substr(6, 2));
  int hour = digits_value(text.substr(8, 2));
  int minute = digits_value(text.substr(10, 2));
  int second = digits_value(text.substr(12, 2));
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  int month_days = kDays[month - 1] + (month == 2 && leap_year(year) ? 1 : 0);
  if (day < 1 || day > month_days) return std::nullopt;
  struct tm tm {};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second == 60 ? 59 : second;
  struct timespec ts {};
  ts.tv_sec = ::timegm(&tm);
  long nanos = 0;
  for (size_t i = 0; i < 9; ++i) nanos = nanos * 10 + (i < fraction.size() ? fraction[i] - '0' : 0);
  ts.tv_nsec = nanos;
  return ts;
}

std::optional<std::pair<std::string_view, std::string_view>> split_first_word(
    std::string_view arg) {
  auto space = arg.find(' ');
  if (space == 0 || space == std::string_view::npos || space + 1 == arg.size()) {
    return std::nullopt;
  }
  return std::make_pair(arg.substr(0, space), arg.substr(space + 1));
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_mff_facts(
    std::string_view facts) {
  if (facts.empty() || facts.back() != ';') return std::nullopt;
  std::vector<std::pair<std::string, std::string>> result;
  while (!facts.empty()) {
    auto semicolon = facts.find(';');
    auto fact = facts.substr(0, semicolon);
    facts.remove_prefix(semicolon + 1);
    auto equals = fact.find('=');
    if (equals == 0 || equals == std::string_view::npos || fact.find(' ') != fact.npos) {
      return std::nullopt;
    }
    std::string name(fact.substr(0, equals));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    result.emplace_back(std::move(name), std::string(fact.substr(equals + 1)));
  }
  return result;
}

std::optional<mode_t> parse_octal_mode(std::string_view text) {
  if (text.empty() || text.size() > 4) return std::nullopt;
  mode_t mode = 0;
  for (char c : text) {
    if (c < '0' || c > '7') return std::nullopt;
    mode = static_cast<mode_t>(mode * 8 + static_cast<mode_t>(c - '0'));
  }
  return mode;
}

std::optional<std::variant<ByteRange, RangReset>> parse_rang_argument(std::string_view arg) {
  auto words = split_first_word(arg);
  if (!words) return std::nullopt;
  auto start = parse_u64(words->first);
  auto end = parse_u64(words->second);
  if (!start || !end) return std::nullopt;
  if (*start == 1 && *end == 0) return RangReset::kReset;
  if (*start > *end) return std::nullopt;
  return ByteRange{*start, *end};
}

}  // namespace nm::ftp
