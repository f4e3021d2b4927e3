#include <gtest/gtest.h>
#include <unistd.h>

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "bench/ftp_client.hpp"
#include "bench/proc_stats.hpp"

namespace nm::bench {
namespace {

TEST(BenchProcStats, ParsesStatLine) {
  auto s = parse_proc_stat(
      "4242 (netmodels) S 17 4242 17 0 -1 4194560 1000 0 0 0 250 75 3 4 20 0 3 0 123 0 0");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->pid, 4242);
  EXPECT_EQ(s->ppid, 17);
  EXPECT_EQ(s->utime_ticks, 250u);
  EXPECT_EQ(s->stime_ticks, 75u);
  EXPECT_EQ(s->cutime_ticks, 3u);
  EXPECT_EQ(s->cstime_ticks, 4u);
}

TEST(BenchProcStats, CommandNameMayHoldSpacesAndParentheses) {
  auto s = parse_proc_stat("7 (a) b (c) d) R 1 7 7 0 -1 0 0 0 0 0 11 22 33 44 20 0 1 0 9 0 0");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->ppid, 1);
  EXPECT_EQ(s->utime_ticks, 11u);
  EXPECT_EQ(s->stime_ticks, 22u);
}

TEST(BenchProcStats, RejectsTruncatedOrGarbledLines) {
  EXPECT_FALSE(parse_proc_stat(""));
  EXPECT_FALSE(parse_proc_stat("12 (x) S 1 2 3"));
  EXPECT_FALSE(parse_proc_stat("12 x S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15"));
  EXPECT_FALSE(parse_proc_stat("12 (x) S one 2 3 4 5 6 7 8 9 10 11 12 13 14 15"));
}

TEST(BenchProcStats, ParsesSchedstat) {
  EXPECT_EQ(parse_schedstat("6835838 162887896 280\n"), 6835838u);
  EXPECT_EQ(parse_schedstat("42"), 42u);
  EXPECT_FALSE(parse_schedstat(""));
  EXPECT_FALSE(parse_schedstat("x 1 2"));
}

// A process that spends a few milliseconds on a CPU, less than a tick: its stat line says 0
// ticks (utime and stime are truncated to whole ticks), its CPU must still be seen.
TEST(BenchProcStats, TreeCpuSeesAChildsSubTickTime) {
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char c;
    if (::read(go[0], &c, 1) != 1) ::_exit(1);
    // 5 ms more of this process's own CPU time, however often it is preempted.
    auto cpu_ns = [] {
      timespec t{};
      ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
      return static_cast<int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
    };
    int64_t until = cpu_ns() + 5'000'000;
    while (cpu_ns() < until) {
    }
    ::pause();
    ::_exit(0);
  }
  auto before = tree_cpu_seconds(child);
  ASSERT_TRUE(before);
  ASSERT_EQ(::write(go[1], "x", 1), 1);
  std::optional<double> after;
  for (int i = 0; i < 200; ++i) {  // up to 2 s for the child to run its 5 ms
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    after = tree_cpu_seconds(child);
    if (after && *after - *before >= 0.004) break;
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ::close(go[0]);
  ::close(go[1]);
  ASSERT_TRUE(after);
  EXPECT_GE(*after - *before, 0.004);
}

TEST(BenchProcStats, ReadsKbFields) {
  const char* status =
      "Name:\tnetmodels\nVmPeak:\t  9999 kB\nVmRSS:\t    5120 kB\nRssAnon:\t 1024 kB\n";
  EXPECT_EQ(parse_kb_field(status, "VmRSS"), 5120u);
  EXPECT_EQ(parse_kb_field(status, "RssAnon"), 1024u);
  EXPECT_FALSE(parse_kb_field(status, "VmSwap"));
  EXPECT_FALSE(parse_kb_field(status, "Vm"));  // a prefix of a name is not the name
  const char* rollup = "00400000-7fff [rollup]\nRss:   800 kB\nPss:   700 kB\nPss_Anon: 9 kB\n";
  EXPECT_EQ(parse_kb_field(rollup, "Pss"), 700u);
}

TEST(BenchProcStats, ReadsThisProcessTree) {
  auto tree = process_tree(::getpid());
  ASSERT_FALSE(tree.empty());
  EXPECT_EQ(tree.front(), ::getpid());
  auto stats = tree_stats(::getpid());
  EXPECT_GE(stats.processes, 1);
  EXPECT_GT(stats.rss_kib, 0u);
  EXPECT_GE(stats.cpu_seconds, 0.0);
}

TEST(BenchProcStats, CpuOnlyReadingMatchesTheFullOne) {
  // Spin a little so that this process has CPU time to count.
  volatile uint64_t sink = 0;
  for (uint64_t i = 0; i < 50'000'000; ++i) sink = sink + i;
  auto cpu = tree_cpu_seconds(::getpid());
  ASSERT_TRUE(cpu.has_value());
  EXPECT_GT(*cpu, 0);
  // Read a moment apart, so within a few clock ticks of each other.
  EXPECT_NEAR(*cpu, tree_stats(::getpid()).cpu_seconds, 0.05);
  EXPECT_FALSE(tree_cpu_seconds(0x3fffffff).has_value());
}

TEST(BenchProcStats, ReadsTheAcceptQueueOfAListener) {
  const char* text =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000012 00:00000000 00000000  0\n"
      "   1: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0\n"
      "   2: 0100007F:1F90 00000000:0000 0A 00000000:00000003 00:00000000 00000000  0\n"
      "   3: 0100007F:1F90 0100007F:D431 01 00000000:00000040 00:00000000 00000000  0\n";
  // Port 0x1F90 = 8080: two SO_REUSEPORT listeners, 0x12 + 3 waiting; the connection after the
  // listeners (state 01) is not a listener's queue.
  EXPECT_EQ(parse_accept_queue(text, 8080), std::optional<uint64_t>(21));
  EXPECT_EQ(parse_accept_queue(text, 80), std::optional<uint64_t>(0));
  EXPECT_FALSE(parse_accept_queue(text, 21).has_value());
  EXPECT_FALSE(parse_accept_queue("", 8080).has_value());
}

TEST(BenchProcStats, GoneProcessIsEmpty) {
  EXPECT_TRUE(process_tree(0x3fffffff).empty());
  EXPECT_EQ(tree_stats(0x3fffffff).processes, 0);
}

TEST(BenchNetstat, FindsACounterByPrefixAndName) {
  const char* text =
      "TcpExt: SyncookiesSent SyncookiesRecv ListenOverflows ListenDrops\n"
      "TcpExt: 5 6 79953 80000\n"
      "IpExt: InNoRoutes ListenOverflows\n"
      "IpExt: 1 2\n";
  EXPECT_EQ(parse_netstat_counter(text, "TcpExt", "ListenOverflows"), 79953u);
  EXPECT_EQ(parse_netstat_counter(text, "TcpExt", "SyncookiesSent"), 5u);
  EXPECT_EQ(parse_netstat_counter(text, "IpExt", "ListenOverflows"), 2u);
  EXPECT_EQ(parse_netstat_counter(text, "TcpExt", "NoSuchCounter"), std::nullopt);
  EXPECT_EQ(parse_netstat_counter(text, "Tcp", "ListenOverflows"), std::nullopt);
  EXPECT_EQ(parse_netstat_counter("TcpExt: A B\n", "TcpExt", "A"), std::nullopt);
}

TEST(BenchNetstat, ReadsThisMachine) {
  // Every Linux since 2.6 counts accept-queue overflows; the storm's report depends on it.
  EXPECT_TRUE(netstat_counter("TcpExt", "ListenOverflows").has_value());
}

}  // namespace
}  // namespace nm::bench
