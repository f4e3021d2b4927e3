// FTP control-path costs: command parsing and framing, path resolution (lexical and through the
// kernel's openat2), and listing lines.

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <list>
#include <string>

#include "services/ftp/command.hpp"
#include "services/ftp/listing.hpp"
#include "services/ftp/path_jail.hpp"

namespace {

using namespace nm::ftp;

void BM_ParseCommand(benchmark::State& state) {
  for (auto _ : state) {
    auto cmd = parse_command("retr some folder/a file name.bin");
    benchmark::DoNotOptimize(cmd);
  }
}
BENCHMARK(BM_ParseCommand);

// A pipelined burst of 64 commands, as a client that does not wait for replies sends them.
void BM_FrameLines(benchmark::State& state) {
  std::string burst;
  for (int i = 0; i < 64; ++i) burst += "NOOP\r\nRETR folder/file-" + std::to_string(i) + "\r\n";
  LineFramer framer;
  std::list<Line> lines;
  for (auto _ : state) {
    framer.feed(burst, lines);
    benchmark::DoNotOptimize(lines.size());
    lines.clear();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * burst.size()));
}
BENCHMARK(BM_FrameLines);

void BM_NormalizePath(benchmark::State& state) {
  std::string out;
  for (auto _ : state) {
    int err =
        normalize_path("/home/user/projects", "../docs/./drafts/../final/report v2.pdf", &out);
    benchmark::DoNotOptimize(err);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_NormalizePath);

struct JailFixture {
  JailFixture() {
    char tmpl[] = "/tmp/nm-ftp-bench-XXXXXX";
    root = ::mkdtemp(tmpl);
    std::filesystem::create_directories(root / "a/b/c");
    std::ofstream(root / "a/b/c/file.bin") << "data";
    for (int i = 0; i < 100; ++i) std::ofstream(root / ("entry-" + std::to_string(i)));
    PathJail::open_root(root, &jail);
  }
  ~JailFixture() { std::filesystem::remove_all(root); }
  std::filesystem::path root;
  PathJail jail;
};

// The lexical step and the openat2(RESOLVE_IN_ROOT) step that every file command pays.
void BM_ResolveAndOpen(benchmark::State& state) {
  JailFixture f;
  std::string vpath;
  for (auto _ : state) {
    normalize_path("/a/b", "c/../c/file.bin", &vpath);
    nm::Fd fd;
    int err = f.jail.open(vpath, O_RDONLY, &fd);
    benchmark::DoNotOptimize(err);
  }
}
BENCHMARK(BM_ResolveAndOpen);

void BM_ListLine(benchmark::State& state) {
  DirEntry e;
  e.name = "a rather typical file name.tar.gz";
  e.st.st_mode = S_IFREG | 0644;
  e.st.st_size = 123456789;
  e.st.st_mtime = 1700000000;
  e.st.st_nlink = 1;
  for (auto _ : state) {
    auto line = list_line(e, 1700000500);
    benchmark::DoNotOptimize(line);
  }
}
BENCHMARK(BM_ListLine);

void BM_MlsxLine(benchmark::State& state) {
  DirEntry e;
  e.name = "file.bin";
  e.st.st_mode = S_IFREG | 0644;
  e.st.st_size = 4096;
  e.st.st_mtime = 1700000000;
  nm::FtpRights rights{true, true, true, true, true};
  for (auto _ : state) {
    auto line = mlsx_line(e, rights);
    benchmark::DoNotOptimize(line);
  }
}
BENCHMARK(BM_MlsxLine);

// A whole LIST of a 100-entry folder: readdir, fstatat and formatting.
void BM_ListFolder(benchmark::State& state) {
  JailFixture f;
  for (auto _ : state) {
    std::vector<DirEntry> entries;
    nm::Fd folder;
    f.jail.open("/", O_RDONLY | O_DIRECTORY, &folder);
    read_folder(std::move(folder), f.jail, "/", false, &entries);
    std::string text;
    for (const auto& e : entries) text += list_line(e, 1700000500);
    benchmark::DoNotOptimize(text);
  }
}
BENCHMARK(BM_ListFolder);

}  // namespace

BENCHMARK_MAIN();
