#pragma once

#include <string>
#include <string_view>

namespace nm {

// One log dialect for every layer: a message is "event=NAME key=value ...", logfmt's pairs.
// logfmt_value() renders one value: bare when it can be, quoted with escapes otherwise, so a
// value holding spaces, quotes or line breaks (a file name from a client) cannot forge a pair
// or a line.
std::string logfmt_value(std::string_view value);

}  // namespace nm
