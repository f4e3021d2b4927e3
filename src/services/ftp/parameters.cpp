#include "services/ftp/parameters.hpp"

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

}  // namespace nm::ftp
