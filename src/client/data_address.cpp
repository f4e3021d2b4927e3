#include "client/data_address.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>

namespace nm::client {

std::optional<HostPort> parse_pasv_reply(std::string_view line) {
  // Skip the reply code, whose digits are not part of the six numbers.
  size_t i = line.size() > 3 ? 4 : line.size();
  while (i < line.size() && !std::isdigit(static_cast<unsigned char>(line[i]))) ++i;
  std::array<unsigned, 6> numbers{};
  for (size_t n = 0; n < numbers.size(); ++n) {
    if (n > 0) {
      if (i >= line.size() || line[i] != ',') return std::nullopt;
      ++i;
    }
    size_t digits = 0;
    unsigned value = 0;
    while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i])) && digits < 4) {
      value = value * 10 + static_cast<unsigned>(line[i] - '0');
      ++i;
      ++digits;
    }
    if (digits == 0 || value > 255) return std::nullopt;
    numbers[n] = value;
  }
  HostPort out;
  out.host = fmt::format("{}.{}.{}.{}", numbers[0], numbers[1], numbers[2], numbers[3]);
  out.port = static_cast<uint16_t>(numbers[4] * 256 + numbers[5]);
  return out;
}

std::optional<uint16_t> parse_epsv_reply(std::string_view line) {
  auto open = line.find('(');
  if (open == std::string_view::npos || open + 4 >= line.size()) return std::nullopt;
  char d = line[open + 1];
  if (d < 33 || d > 126 || line[open + 2] != d || line[open + 3] != d) return std::nullopt;
  size_t i = open + 4;
  unsigned value = 0;
  size_t digits = 0;
  while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i])) && digits < 6) {
    value = value * 10 + static_cast<unsigned>(line[i] - '0');
    ++i;
    ++digits;
  }
  if (digits == 0 || value == 0 || value > 65535) return std::nullopt;
  if (i + 1 >= line.size() || line[i] != d || line[i + 1] != ')') return std::nullopt;
  return static_cast<uint16_t>(value);
}

std::string port_argument(const Address& address) {
  std::string host = address.host();
  // An IPv4-mapped IPv6 address ends with the dotted IPv4 form.
  if (address.is_v4_mapped()) host = host.substr(host.rfind(':') + 1);
  for (auto& c : host) {
    if (c == '.') c = ',';
  }
  return fmt::format("{},{},{}", host, address.port() / 256, address.port() % 256);
}

std::string eprt_argument(const Address& address) {
  return fmt::format("|{}|{}|{}|", address.is_v6() ? 2 : 1, address.host(), address.port());
}

}  // namespace nm::client
