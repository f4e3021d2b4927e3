#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace nm::bench {

// The fields of /proc/PID/stat the benchmark needs.
struct ProcStat {
  pid_t pid = 0;
  pid_t ppid = 0;
  uint64_t utime_ticks = 0;
  uint64_t stime_ticks = 0;
  // CPU of children already reaped: a fork model's finished sessions live on only here.
  uint64_t cutime_ticks = 0;
  uint64_t cstime_ticks = 0;
  // The first field of /proc/PID/schedstat: the main thread's time on a CPU, in nanoseconds.
  // utime and stime are shown in whole ticks (10 ms), truncated per process: a fork server's
  // thousand children, each a few milliseconds on a CPU, showed 0 s where they had used 3 s.
  // Empty when unreadable.
  std::optional<uint64_t> main_thread_ns;
};

// Parses one /proc/PID/stat line. The command name sits in parentheses and may itself hold spaces
// and parentheses, so the fields are counted from the last ')'.
std::optional<ProcStat> parse_proc_stat(std::string_view text);
// The first number of a /proc/PID/schedstat line ("run_ns wait_ns timeslices").
std::optional<uint64_t> parse_schedstat(std::string_view text);
// The value in kB of a "Name:   1234 kB" line of /proc/PID/status or smaps_rollup.
std::optional<uint64_t> parse_kb_field(std::string_view text, std::string_view name);

// What a server costs, summed over its process and every descendant (fork and prefork models
// serve from children).
struct TreeStats {
  int processes = 0;
  uint64_t rss_kib = 0;  // sum of VmRSS: counts pages shared by a parent and its forks each time
  uint64_t pss_kib = 0;  // sum of Pss: shared pages split between their sharers, 0 if unreadable
  double cpu_seconds = 0;

  // One process: RSS, which other processes mapping the same libraries cannot move. A tree: Pss,
  // so that the pages a fork shares with its parent are not counted once per child.
  uint64_t memory_kib(bool tree) const { return tree && pss_kib ? pss_kib : rss_kib; }
};

// One counter of /proc/net/netstat or /proc/net/snmp: a header line "Prefix: Name1 Name2 ..."
// followed by a line "Prefix: value1 value2 ...". For example ("TcpExt", "ListenOverflows").
std::optional<uint64_t> parse_netstat_counter(std::string_view text, std::string_view prefix,
                                              std::string_view name);
// The same, read from this machine's /proc/net/netstat: for loopback, client and server share it.
std::optional<uint64_t> netstat_counter(std::string_view prefix, std::string_view name);

// How many connections wait in the accept queues of the listeners on `port`, from the lines of
// /proc/net/tcp or tcp6 (for a listener, rx_queue is its accept queue); empty when no listener on
// that port is listed. Summed over SO_REUSEPORT listeners. Stops at the first line that is not a
// listener: the kernel lists every listener before the connections.
std::optional<uint64_t> parse_accept_queue(std::string_view proc_net_tcp, uint16_t port);
// The same read from this machine (/proc/net/tcp6 for a v6 listener): for loopback, the server's.
std::optional<uint64_t> accept_queue(uint16_t port, bool v6);

// `root` and its descendants, found by walking /proc; empty when `root` is gone.
std::vector<pid_t> process_tree(pid_t root);
TreeStats tree_stats(pid_t root);
// The CPU seconds of `root` and its descendants from one pass over /proc/*/stat, nothing else
// read: tree_stats also reads each process's smaps_rollup, which for a fork server's 10,000
// children takes longer than a measured window. Empty when `root` is gone.
std::optional<double> tree_cpu_seconds(pid_t root);

}  // namespace nm::bench
