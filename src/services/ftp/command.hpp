#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <string_view>

namespace nm::ftp {

// One control line split RFC 959 style: the verb (upper-cased) and everything after the first
// space, kept as is because path names may hold spaces of their own.
struct Command {
  std::string verb;
  std::string arg;
};

Command parse_command(std::string_view line);

// ASCII upper case: verbs and keyword arguments ("TYPE a", "EPSV all") are case-insensitive.
std::string to_upper(std::string_view text);

// A complete control line, or the marker of one that overflowed kMaxLine and was thrown away.
struct Line {
  std::string text;
  bool too_long = false;
};

// Cuts the control stream into lines. CRLF ends a line; a bare LF or a bare CR does too, because
// ftplib sends ABOR's last byte as urgent data, which a plain recv() never sees. Telnet IAC
// sequences (IAC IP, IAC DM before ABOR) are dropped. A line longer than kMaxLine is discarded up
// to its end and reported once, so memory stays bounded whatever the peer sends.
class LineFramer {
 public:
  static constexpr size_t kMaxLine = 4096;

  // Appends the complete lines found in `bytes` to `lines`.
  void feed(std::string_view bytes, std::list<Line>& lines);
  // True while a line has begun and not ended: the session's command time-out runs meanwhile.
  bool partial() const { return !partial_.empty() || overflow_ || after_iac_ || iac_skip_ > 0; }

 private:
  void end_line(std::list<Line>& lines);

  std::string partial_;
  bool overflow_ = false;
  bool after_cr_ = false;  // a CR just ended a line: an LF right after it belongs to that line
  int iac_skip_ = 0;       // bytes of a Telnet command still to drop
  bool after_iac_ = false;
};

}  // namespace nm::ftp
