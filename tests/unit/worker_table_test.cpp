// WorkerTable, prefork's shared admission counts and pool size. The shared mapping and its
// process-shared mutex are checked across a real fork() too.
#include "models/worker_table.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

namespace nm {
namespace {

Address peer(const char* host) {
  return *Address::from(host, 40000);
}

TEST(WorkerTableTest, SlotsRunOutAtTheCeiling) {
  WorkerTable table(2, 0, 0);
  auto a = table.reserve();
  auto b = table.reserve();
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(table.reserve().has_value());
  table.assign(*a, 100);
  table.assign(*b, 101);
  EXPECT_EQ(table.counts().workers, 2u);
  EXPECT_TRUE(table.clear(100));
  EXPECT_FALSE(table.clear(100));
  EXPECT_TRUE(table.reserve().has_value());
}

TEST(WorkerTableTest, MaxClientsAndMaxPerIpCountBusySlots) {
  WorkerTable table(8, 3, 2);
  for (int i = 0; i < 8; ++i) table.assign(*table.reserve(), 100 + i);
  EXPECT_TRUE(table.admit(0, peer("127.0.0.1")));
  EXPECT_TRUE(table.admit(1, peer("127.0.0.1")));
  EXPECT_FALSE(table.admit(2, peer("127.0.0.1"))) << "--max-per-ip 2";
  EXPECT_TRUE(table.admit(2, peer("127.0.0.2")));
  EXPECT_FALSE(table.admit(3, peer("127.0.0.3"))) << "--max-clients 3";
  table.release(0);
  EXPECT_TRUE(table.admit(3, peer("127.0.0.1")));
  EXPECT_EQ(table.counts().idle, 5u);
  // A worker that died while serving gives its connection back when the parent clears it.
  EXPECT_TRUE(table.clear(101));
  EXPECT_TRUE(table.admit(4, peer("127.0.0.1")));
}

TEST(WorkerTableTest, IdleWorkersRetireOnlyPastTheSparesAndTheStartCount) {
  WorkerTable table(8, 0, 0);
  for (int i = 0; i < 5; ++i) table.assign(*table.reserve(), 100 + i);
  EXPECT_FALSE(table.retire(0, 3, 5)) << "not past the start count";
  EXPECT_TRUE(table.retire(0, 3, 2));
  EXPECT_TRUE(table.retire(1, 3, 2)) << "4 workers, 4 idle: one more may go";
  EXPECT_TRUE(table.admit(2, peer("127.0.0.1")));
  EXPECT_FALSE(table.retire(3, 3, 2)) << "2 idle: the spares stay";
  EXPECT_EQ(table.counts().workers, 3u);
}

TEST(WorkerTableTest, CountsAreSharedWithAForkedWorker) {
  WorkerTable table(4, 1, 0);
  for (int i = 0; i < 2; ++i) table.assign(*table.reserve(), 100 + i);
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(table.admit(0, peer("127.0.0.1")) ? 0 : 1);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(table.admit(1, peer("127.0.0.2"))) << "the child's connection counts here too";
}

}  // namespace
}  // namespace nm
