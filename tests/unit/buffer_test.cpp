#include <gtest/gtest.h>

#include <string>

#include "net/buffer.hpp"

namespace nm {

TEST(Buffer, KeepsOrderAcrossGrowthAndConsume) {
  Buffer b;
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    std::string chunk(static_cast<size_t>(i % 97), static_cast<char>('a' + i % 26));
    b.append(chunk);
    expected += chunk;
    if (i % 3 == 0) {
      size_t n = std::min<size_t>(b.size(), 50);
      EXPECT_EQ(b.view().substr(0, n), expected.substr(0, n));
      b.consume(n);
      expected.erase(0, n);
    }
  }
  EXPECT_EQ(b.view(), expected);
}

TEST(Buffer, ReleasesLargeStorageWhenDrained) {
  Buffer b;
  b.append(std::string(1 << 20, 'x'));
  b.consume(b.size());
  EXPECT_TRUE(b.empty());
  b.append("y");
  EXPECT_EQ(b.view(), "y");
}

}  // namespace nm
