#pragma once

#include <string>
#include <string_view>

namespace nm::client {

// ASCII type (TYPE A) sends lines ending in CRLF. These convert a stream in chunks, so a CR at
// the end of one chunk and its LF at the start of the next are handled like any other pair.

// CRLF -> LF, for downloads.
class CrlfToLf {
 public:
  std::string convert(std::string_view chunk);
  // A CR left over at the very end of the stream was not part of a pair.
  std::string finish();

 private:
  bool held_cr_ = false;
};

// LF -> CRLF, for uploads; a line already ending in CRLF is left alone.
class LfToCrlf {
 public:
  std::string convert(std::string_view chunk);

 private:
  bool last_was_cr_ = false;
};

}  // namespace nm::client
