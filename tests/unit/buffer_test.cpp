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
  EXPECT_EQ(b.capacity(), 0u);
  b.append("y");
  EXPECT_EQ(b.view(), "y");
}

TEST(Buffer, AnIdleConnectionsSmallBufferIsReleasedAndABulkOneKept) {
  Buffer reply;
  reply.append("220 Service ready.\r\n");
  EXPECT_GT(reply.capacity(), 0u);
  reply.consume(reply.size());
  EXPECT_EQ(reply.capacity(), 0u);  // what an idle session would hold for nothing
  Buffer bulk;
  bulk.append(std::string(8 * 1024, 'r'));
  bulk.clear();
  EXPECT_GE(bulk.capacity(), 8u * 1024);  // refilled on the next step: no regrowth
}

}  // namespace nm
