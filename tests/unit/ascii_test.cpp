#include <gtest/gtest.h>

#include <string>

#include "transfer/ascii.hpp"

namespace nm {

TEST(Ascii, ToNetworkAddsCarriageReturnsOnce) {
  ToNetworkAscii to;
  std::string out;
  to.convert("a\nb\r\nc\n", out);
  EXPECT_EQ(out, "a\r\nb\r\nc\r\n");
}

TEST(Ascii, ToNetworkKeepsStateAcrossChunks) {
  ToNetworkAscii to;
  std::string out;
  to.convert("a\r", out);
  to.convert("\nb\n", out);
  EXPECT_EQ(out, "a\r\nb\r\n");
}

TEST(Ascii, FromNetworkStripsOnlyCrBeforeLf) {
  FromNetworkAscii from;
  std::string out;
  from.convert("a\r", out);
  from.convert("\nb\rc\r", out);
  from.finish(out);
  EXPECT_EQ(out, "a\nb\rc\r");
}

}  // namespace nm
