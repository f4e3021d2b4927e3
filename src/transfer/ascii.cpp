#include "transfer/ascii.hpp"

namespace nm {

void ToNetworkAscii::convert(std::string_view in, std::string& out) {
  for (char c : in) {
    if (c == '\n' && !last_was_cr_) out += '\r';
    out += c;
    last_was_cr_ = (c == '\r');
  }
}

void FromNetworkAscii::convert(std::string_view in, std::string& out) {
  for (char c : in) {
    if (pending_cr_) {
      pending_cr_ = false;
      if (c != '\n') out += '\r';
    }
    if (c == '\r') {
      pending_cr_ = true;
    } else {
      out += c;
    }
  }
}

void FromNetworkAscii::finish(std::string& out) {
  if (pending_cr_) out += '\r';
  pending_cr_ = false;
}

}  // namespace nm
