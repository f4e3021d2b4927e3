#include "bench/proc_stats.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace nm::bench {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

template <typename T>
bool parse_number(std::string_view word, T* out) {
  auto r = std::from_chars(word.data(), word.data() + word.size(), *out);
  return r.ec == std::errc() && r.ptr == word.data() + word.size();
}

std::vector<ProcStat> all_processes() {
  std::vector<ProcStat> result;
  DIR* dir = ::opendir("/proc");
  if (!dir) return result;
  while (auto* entry = ::readdir(dir)) {
    pid_t pid = 0;
    if (!parse_number(std::string_view(entry->d_name), &pid)) continue;
    std::string dir_path = "/proc/" + std::string(entry->d_name);
    auto stat = parse_proc_stat(read_text(dir_path + "/stat"));
    if (!stat) continue;
    stat->main_thread_ns = parse_schedstat(read_text(dir_path + "/schedstat"));
    result.push_back(*stat);
  }
  ::closedir(dir);
  return result;
}

}  // namespace

std::optional<uint64_t> parse_schedstat(std::string_view text) {
  uint64_t ns = 0;
  if (!parse_number(text.substr(0, text.find(' ')), &ns)) return std::nullopt;
  return ns;
}

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
  auto open = text.find('(');
  auto close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  ProcStat stat;
  auto pid_text = text.substr(0, open);
  while (!pid_text.empty() && pid_text.back() == ' ') pid_text.remove_suffix(1);
  if (!parse_number(pid_text, &stat.pid)) return std::nullopt;
  // Field 3 (state) is the first word after ')'; ppid is field 4, utime 14, stime 15,
  // cutime 16, cstime 17.
  std::string_view rest = text.substr(close + 1);
  int field = 2;
  size_t pos = 0;
  while (pos < rest.size() && field < 17) {
    while (pos < rest.size() && rest[pos] == ' ') ++pos;
    size_t end = rest.find(' ', pos);
    if (end == std::string_view::npos) end = rest.size();
    auto word = rest.substr(pos, end - pos);
    ++field;
    bool ok = true;
    if (field == 4) ok = parse_number(word, &stat.ppid);
    if (field == 14) ok = parse_number(word, &stat.utime_ticks);
    if (field == 15) ok = parse_number(word, &stat.stime_ticks);
    if (field == 16) ok = parse_number(word, &stat.cutime_ticks);
    if (field == 17) ok = parse_number(word, &stat.cstime_ticks);
    if (!ok) return std::nullopt;
    pos = end;
  }
  if (field < 17) return std::nullopt;
  return stat;
}

std::optional<uint64_t> parse_kb_field(std::string_view text, std::string_view name) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    auto line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.size() <= name.size() || line.substr(0, name.size()) != name ||
        line[name.size()] != ':') {
      continue;
    }
    auto value = line.substr(name.size() + 1);
    auto first = value.find_first_not_of(" \t");
    if (first == std::string_view::npos) return std::nullopt;
    value = value.substr(first);
    auto last = value.find_first_of(" \t");
    uint64_t kib = 0;
    if (!parse_number(value.substr(0, last), &kib)) return std::nullopt;
    return kib;
  }
  return std::nullopt;
}

std::optional<uint64_t> parse_netstat_counter(std::string_view text, std::string_view prefix,
                                              std::string_view name) {
  std::string head = std::string(prefix) + ":";
  std::vector<std::string_view> names;
  while (!text.empty()) {
    auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (!line.starts_with(head)) continue;
    std::vector<std::string_view> words;
    for (size_t pos = head.size(); pos < line.size();) {
      size_t start = line.find_first_not_of(' ', pos);
      if (start == std::string_view::npos) break;
      size_t stop = line.find(' ', start);
      words.push_back(line.substr(start, stop - start));
      pos = stop == std::string_view::npos ? line.size() : stop;
    }
    if (names.empty()) {
      names = std::move(words);  // the first line of the pair names the counters
      continue;
    }
    for (size_t i = 0; i < names.size() && i < words.size(); ++i) {
      uint64_t value = 0;
      if (names[i] == name && parse_number(words[i], &value)) return value;
    }
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<uint64_t> netstat_counter(std::string_view prefix, std::string_view name) {
  return parse_netstat_counter(read_text("/proc/net/netstat"), prefix, name);
}

namespace {

// `root` and its descendants among `processes`, root first; empty when root is not there.
std::vector<const ProcStat*> tree_of(const std::vector<ProcStat>& processes, pid_t root) {
  std::multimap<pid_t, const ProcStat*> children;
  const ProcStat* top = nullptr;
  for (const auto& p : processes) {
    children.emplace(p.ppid, &p);
    if (p.pid == root) top = &p;
  }
  std::vector<const ProcStat*> tree;
  if (!top) return tree;
  tree.push_back(top);
  for (size_t i = 0; i < tree.size(); ++i) {
    auto [first, last] = children.equal_range(tree[i]->pid);
    for (auto it = first; it != last; ++it) tree.push_back(it->second);
  }
  return tree;
}

double cpu_seconds_of(const ProcStat& stat) {
  static const double kTicks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  // The process's own time: stat's ticks count every thread, exited ones too, but truncated;
  // schedstat is exact but the main thread's alone. The larger is the nearer: schedstat for a
  // one-thread process (a fork child), stat where other threads did the work.
  double own = static_cast<double>(stat.utime_ticks + stat.stime_ticks) / kTicks;
  if (stat.main_thread_ns) own = std::max(own, static_cast<double>(*stat.main_thread_ns) / 1e9);
  // Reaped children's time, summed by the kernel before it is shown: one truncation in all.
  return own + static_cast<double>(stat.cutime_ticks + stat.cstime_ticks) / kTicks;
}

}  // namespace

std::optional<uint64_t> parse_accept_queue(std::string_view text, uint16_t port) {
  // "  0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 ...": sl, local, remote, state,
  // tx_queue:rx_queue, all hexadecimal; state 0A is LISTEN.
  std::optional<uint64_t> queued;
  bool header = true;
  while (!text.empty()) {
    auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (header) {
      header = false;
      continue;
    }
    std::string_view words[5];
    size_t pos = 0, n = 0;
    while (n < 5) {
      size_t start = line.find_first_not_of(' ', pos);
      if (start == std::string_view::npos) break;
      size_t stop = line.find(' ', start);
      words[n++] = line.substr(start, stop - start);
      pos = stop == std::string_view::npos ? line.size() : stop;
    }
    if (n < 5) continue;
    if (words[3] != "0A") break;  // the listeners are over
    auto colon = words[1].rfind(':');
    auto queue_colon = words[4].find(':');
    if (colon == std::string_view::npos || queue_colon == std::string_view::npos) continue;
    auto local_port = words[1].substr(colon + 1);
    auto rx = words[4].substr(queue_colon + 1);
    unsigned listener_port = 0;
    uint64_t rx_queue = 0;
    if (std::from_chars(local_port.data(), local_port.data() + local_port.size(), listener_port, 16)
                .ec != std::errc() ||
        std::from_chars(rx.data(), rx.data() + rx.size(), rx_queue, 16).ec != std::errc()) {
      continue;
    }
    if (listener_port == port) queued = queued.value_or(0) + rx_queue;
  }
  return queued;
}

std::optional<uint64_t> accept_queue(uint16_t port, bool v6) {
  // Only the listeners' lines are wanted, and they come first: read a few pages, not the whole
  // table (10,000 open connections are megabytes of it).
  std::ifstream in(v6 ? "/proc/net/tcp6" : "/proc/net/tcp");
  if (!in) return std::nullopt;
  std::string text, line;
  bool first = true;
  while (std::getline(in, line)) {
    text += line;
    text += '\n';
    if (!first && line.find(" 0A ") == std::string::npos) break;
    first = false;
  }
  return parse_accept_queue(text, port);
}

std::vector<pid_t> process_tree(pid_t root) {
  std::vector<pid_t> tree;
  auto processes = all_processes();
  for (const ProcStat* p : tree_of(processes, root)) tree.push_back(p->pid);
  return tree;
}

std::optional<double> tree_cpu_seconds(pid_t root) {
  auto processes = all_processes();
  auto tree = tree_of(processes, root);
  if (tree.empty()) return std::nullopt;
  double seconds = 0;
  for (const ProcStat* p : tree) seconds += cpu_seconds_of(*p);
  return seconds;
}

TreeStats tree_stats(pid_t root) {
  TreeStats stats;
  bool pss_everywhere = true;
  for (pid_t pid : process_tree(root)) {
    std::string base = "/proc/" + std::to_string(pid);
    auto stat = parse_proc_stat(read_text(base + "/stat"));
    if (!stat) continue;  // ended while we looked
    ++stats.processes;
    stats.cpu_seconds += cpu_seconds_of(*stat);
    if (auto rss = parse_kb_field(read_text(base + "/status"), "VmRSS")) stats.rss_kib += *rss;
    auto pss = parse_kb_field(read_text(base + "/smaps_rollup"), "Pss");
    if (pss) {
      stats.pss_kib += *pss;
    } else {
      pss_everywhere = false;
    }
  }
  // A Pss sum missing some processes would understate the tree: fall back to RSS altogether.
  if (!pss_everywhere) stats.pss_kib = 0;
  return stats;
}

}  // namespace nm::bench
