// normalize_path() and PathJail, the two halves of "nothing a client names can reach outside its
// root" (services/ftp/path_jail.hpp).
//
// Input: CWD '\n' ARG (no '\n': CWD is "/", the whole input is ARG).
// Checks, whenever normalize_path() succeeds:
//   - the result is absolute and canonical: starts with '/', no empty, "." or ".." component, no
//     trailing '/' but in "/" itself, every component within NAME_MAX and the whole below PATH_MAX;
//   - it is idempotent: normalising the result again (from any folder) gives the result;
//   - it composes: normalising ARG from normalize("/", CWD) gives the same result;
//   - its errors are only EINVAL (for a NUL byte in ARG, and only then) and ENAMETOOLONG;
//   - opening it in a PathJail over a folder full of escaping symlinks ("/", "..", "../..", an
//     absolute path outside) either fails or yields a descriptor whose real path is inside the
//     root; the same for the parent open_parent() hands the *at() calls.

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "services/ftp/path_jail.hpp"

namespace {

using nm::fuzz::printable;

struct Jail {
  std::string root;  // real path, no trailing '/'
  nm::ftp::PathJail jail;
};

// A root with folders, a file and symlinks that try every way out.
Jail* make_jail() {
  std::filesystem::path top = nm::fuzz::scratch_folder("nm-fuzz-jail-");
  auto root = top / "root";
  std::filesystem::create_directories(root / "a" / "b");
  std::filesystem::create_directories(top / "outside");
  ::close(::open((root / "a" / "file").c_str(), O_WRONLY | O_CREAT, 0644));
  ::close(::open((top / "outside" / "secret").c_str(), O_WRONLY | O_CREAT, 0644));
  std::filesystem::create_directory_symlink("/", root / "slash");
  std::filesystem::create_directory_symlink("..", root / "dotdot");
  std::filesystem::create_directory_symlink("../..", root / "a" / "up2");
  std::filesystem::create_directory_symlink(top / "outside", root / "abs");
  std::filesystem::create_directory_symlink("../outside", root / "rel");
  std::filesystem::create_symlink("/etc/passwd", root / "passwd");
  std::filesystem::create_symlink("loop", root / "loop");
  auto* j = new Jail;
  j->root = std::filesystem::canonical(root).string();
  NM_FUZZ_CHECK(nm::ftp::PathJail::open_root(root, &j->jail) == 0, "open_root failed");
  return j;
}

Jail& jail() {
  static Jail* j = make_jail();  // kept for the whole run
  return *j;
}

void check_canonical(std::string_view path) {
  NM_FUZZ_CHECK(!path.empty() && path.front() == '/', "not absolute: '%s'",
                printable(path).c_str());
  NM_FUZZ_CHECK(path.size() < PATH_MAX, "longer than PATH_MAX: %zu", path.size());
  if (path == "/") return;
  NM_FUZZ_CHECK(path.back() != '/', "trailing slash: '%s'", printable(path).c_str());
  size_t i = 1;
  while (i <= path.size()) {
    auto slash = path.find('/', i);
    if (slash == std::string_view::npos) slash = path.size();
    auto part = path.substr(i, slash - i);
    NM_FUZZ_CHECK(!part.empty() && part != "." && part != "..", "bad component in '%s'",
                  printable(path).c_str());
    NM_FUZZ_CHECK(part.size() <= NAME_MAX, "component over NAME_MAX in '%s'",
                  printable(path).c_str());
    i = slash + 1;
  }
}

// The descriptor's real path is the root or below it.
void check_inside(int fd, std::string_view vpath) {
  char link[64];
  std::snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  char real[PATH_MAX + 1];
  ssize_t n = ::readlink(link, real, PATH_MAX);
  NM_FUZZ_CHECK(n > 0, "readlink %s failed", link);
  std::string_view target(real, static_cast<size_t>(n));
  const std::string& root = jail().root;
  bool inside =
      target == root || (target.size() > root.size() && target.substr(0, root.size()) == root &&
                         target[root.size()] == '/');
  NM_FUZZ_CHECK(inside, "'%s' opened '%s', outside the root %s", printable(vpath).c_str(),
                printable(target).c_str(), root.c_str());
}

void check_resolution(const std::string& vpath) {
  nm::Fd fd;
  if (jail().jail.open(vpath, O_PATH, &fd) == 0) check_inside(fd.get(), vpath);
  nm::Fd dir;
  std::string leaf;
  if (jail().jail.open_parent(vpath, &dir, &leaf) == 0) {
    check_inside(dir.get(), vpath);
    NM_FUZZ_CHECK(!leaf.empty() && leaf.find('/') == std::string::npos,
                  "open_parent leaf '%s' of '%s'", printable(leaf).c_str(),
                  printable(vpath).c_str());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view cwd = "/";
  std::string_view arg = input;
  if (auto nl = input.find('\n'); nl != std::string_view::npos) {
    cwd = input.substr(0, nl);
    arg = input.substr(nl + 1);
  }
  // The session's folder always comes out of normalize_path, so it never holds a NUL byte.
  if (cwd.find('\0') != std::string_view::npos) return 0;
  std::string out;
  int err = nm::ftp::normalize_path(cwd, arg, &out);
  bool has_nul = arg.find('\0') != std::string_view::npos;
  NM_FUZZ_CHECK(err == 0 || err == EINVAL || err == ENAMETOOLONG, "unexpected error %d", err);
  NM_FUZZ_CHECK((err == EINVAL) == has_nul, "EINVAL %s a NUL byte",
                has_nul ? "missing with" : "without");
  if (err != 0) return 0;
  check_canonical(out);
  NM_FUZZ_CHECK(out.find('\0') == std::string::npos, "a NUL byte in '%s'", printable(out).c_str());

  std::string again;
  NM_FUZZ_CHECK(nm::ftp::normalize_path("/", out, &again) == 0 && again == out,
                "not idempotent: '%s' -> '%s'", printable(out).c_str(), printable(again).c_str());
  std::string from_cwd;
  NM_FUZZ_CHECK(nm::ftp::normalize_path(cwd, out, &from_cwd) == 0 && from_cwd == out,
                "an absolute result depends on the folder: '%s'", printable(out).c_str());

  // The session keeps its folder normalised; the lexical walk must not care.
  std::string cwd_normal;
  if (nm::ftp::normalize_path("/", cwd, &cwd_normal) == 0) {
    std::string composed;
    if (nm::ftp::normalize_path(cwd_normal, arg, &composed) == 0) {
      NM_FUZZ_CHECK(composed == out, "'%s' from '%s' gives '%s' but from '%s' gives '%s'",
                    printable(arg).c_str(), printable(cwd).c_str(), printable(out).c_str(),
                    printable(cwd_normal).c_str(), printable(composed).c_str());
    }
  }

  std::string parent, leaf;
  nm::ftp::split_parent(out, &parent, &leaf);
  NM_FUZZ_CHECK(leaf.find('/') == std::string::npos, "leaf with a slash");
  NM_FUZZ_CHECK(out == "/" ? leaf.empty() && parent == "/"
                           : (parent == "/" ? "/" + leaf : parent + "/" + leaf) == out,
                "split_parent('%s') = '%s' + '%s'", printable(out).c_str(),
                printable(parent).c_str(), printable(leaf).c_str());

  check_resolution(out);
  return 0;
}
