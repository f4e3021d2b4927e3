#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "net/buffer.hpp"

namespace nm::ftp {

// "code text\r\n". CR and LF inside `text` (a file name, say) would forge a reply line of their
// own, so they are replaced.
void reply(Buffer& out, int code, std::string_view text);

// RFC 959 multi-line reply: "code-first", then each line prefixed with a space (so that no line
// can look like the closing "code " line), then "code last".
void reply_lines(Buffer& out, int code, std::string_view first,
                 const std::vector<std::string>& lines, std::string_view last);

// The reply to a failed file operation: 550 with the reason, 452 when out of space.
void reply_errno(Buffer& out, int err);

// A path inside a 257 reply: double quotes are doubled (RFC 959, appendix II).
std::string quote_path(std::string_view path);

}  // namespace nm::ftp
