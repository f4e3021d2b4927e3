#include "net/byte_size.hpp"

#include <charconv>
#include <cmath>

namespace nm {

std::optional<uint64_t> parse_byte_size(std::string_view text) {
  double value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
  if (ec != std::errc() || !std::isfinite(value) || value < 0) return std::nullopt;
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  double scale = 0;
  if (unit.empty() || unit == "B") scale = 1;
  if (unit == "K" || unit == "k" || unit == "KiB") scale = 1024.0;
  if (unit == "M" || unit == "MiB") scale = 1024.0 * 1024;
  if (unit == "G" || unit == "GiB") scale = 1024.0 * 1024 * 1024;
  if (scale == 0) return std::nullopt;
  double bytes = std::floor(value * scale);
  if (bytes >= 18446744073709551615.0) return std::nullopt;  // 2^64: past uint64_t
  return static_cast<uint64_t>(bytes);
}

}  // namespace nm
