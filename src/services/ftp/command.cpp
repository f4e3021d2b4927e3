#include "services/ftp/command.hpp"

#include <cctype>

namespace nm::ftp {

std::string to_upper(std::string_view text) {
  std::string upper(text);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

Command parse_command(std::string_view line) {
  Command cmd;
  auto space = line.find(' ');
  cmd.verb = to_upper(line.substr(0, space));
  if (space != std::string_view::npos) cmd.arg.assign(line.substr(space + 1));
  return cmd;
}

namespace {
constexpr unsigned char kIac = 255;
constexpr unsigned char kWill = 251;
constexpr unsigned char kDont = 254;
}  // namespace

void LineFramer::end_line(std::list<Line>& lines) {
  if (overflow_) {
    lines.push_back(Line{{}, true});
  } else {
    lines.push_back(Line{std::move(partial_), false});
  }
  partial_.clear();
  overflow_ = false;
}

void LineFramer::feed(std::string_view bytes, std::list<Line>& lines) {
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    if (iac_skip_ > 0) {
      --iac_skip_;
      continue;
    }
    if (after_iac_) {
      after_iac_ = false;
      if (c != kIac) {
        // WILL / WONT / DO / DONT carry one option byte; every other command stands alone.
        if (c >= kWill && c <= kDont) iac_skip_ = 1;
        continue;
      }
      // IAC IAC is a literal 0xFF: fall through and keep it.
    } else if (c == kIac) {
      after_iac_ = true;
      continue;
    }
    if (c == '\n' && after_cr_) {
      after_cr_ = false;
      continue;
    }
    after_cr_ = false;
    if (c == '\r' || c == '\n') {
      after_cr_ = c == '\r';
      end_line(lines);
      continue;
    }
    if (overflow_) continue;
    if (partial_.size() >= kMaxLine) {
      overflow_ = true;
      partial_.clear();
      partial_.shrink_to_fit();
      continue;
    }
    partial_.push_back(ch);
  }
}

}  // namespace nm::ftp
