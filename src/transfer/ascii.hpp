#pragma once

#include <string>
#include <string_view>

namespace nm {

// TYPE A on the wire is NVT-ASCII: lines end in CRLF. Files here end lines in LF.
// Both converters keep state across chunks, since a chunk may end between CR and LF.

// LF -> CRLF (an LF already preceded by CR is left alone).
class ToNetworkAscii {
 public:
  void convert(std::string_view in, std::string& out);

 private:
  bool last_was_cr_ = false;
};

// CRLF -> LF; a lone CR is kept.
class FromNetworkAscii {
 public:
  void convert(std::string_view in, std::string& out);
  // At end of data: a CR held back waiting for its LF is emitted.
  void finish(std::string& out);

 private:
  bool pending_cr_ = false;
};

}  // namespace nm
