#pragma once

#include <string>
#include <string_view>

namespace nm {

// `bytes` made safe for one log line: control and non-ASCII bytes as \xNN, at most `limit` bytes
// shown, a "..." marking a cut.
std::string printable(std::string_view bytes, size_t limit = 200);

}  // namespace nm
