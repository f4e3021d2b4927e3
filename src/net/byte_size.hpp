#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace nm {

// "1G", "10M", "512K", "1.5M" or plain bytes: a number with an optional binary suffix (K / k /
// KiB, M / MiB, G / GiB, or B). nullopt for anything else, a negative number or an overflow. One
// parser for every size a person types: --max-rate, the users file's rate= and quota=, bench's
// --size.
std::optional<uint64_t> parse_byte_size(std::string_view text);

}  // namespace nm
