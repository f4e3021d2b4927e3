#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nm::client {

// Splits a shell line into words as a POSIX shell would, without expansions: blanks separate
// words, '...' keeps everything, "..." keeps everything but \" and \\, and a backslash outside
// quotes escapes the next character. Returns nullopt on an unterminated quote.
std::optional<std::vector<std::string>> split_command_line(std::string_view line);

// Quotes a word so that split_command_line gives it back unchanged.
std::string quote_word(std::string_view word);

}  // namespace nm::client
