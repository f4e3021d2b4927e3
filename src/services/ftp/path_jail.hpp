#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "net/fd.hpp"

namespace nm::ftp {

// Joins a client path with the current folder and collapses "." and ".." lexically, never above
// "/". The result is a virtual absolute path ("/", "/a/b"). Returns 0, or EINVAL for a NUL byte
// and ENAMETOOLONG for a component over NAME_MAX or a path over PATH_MAX.
int normalize_path(std::string_view cwd, std::string_view arg, std::string* out);

// Splits "/a/b/c" into "/a/b" and "c"; "/" has no leaf (empty).
void split_parent(std::string_view vpath, std::string* parent, std::string* leaf);

// Opens files under one root folder so that nothing a client names can reach outside it. The
// lexical normalisation above handles "..", and the kernel handles symlinks: every open goes
// through openat2(RESOLVE_IN_ROOT), which resolves absolute links and ".." against the root as if
// it were "/". Calls that act on a name (unlink, rename, mkdir) open the parent that way and use
// the *at() call on the last component, which they never follow.
// Every function returns 0 or an errno value; none throws.
class PathJail {
 public:
  PathJail() = default;
  explicit PathJail(Fd root) : root_(std::move(root)) {}
  // Opens `root` (O_PATH); returns errno on failure.
  static int open_root(const std::filesystem::path& root, PathJail* jail);

  bool valid() const { return root_.valid(); }
  // A second jail on the same root with a descriptor of its own, for work that may outlive this
  // one (a listing job on another thread). Returns errno on failure.
  int duplicate(PathJail* copy) const;

  // `vpath` must come from normalize_path. `mode` is used with O_CREAT only.
  int open(std::string_view vpath, int flags, Fd* out, mode_t mode = 0) const;
  // stat(2) of the target, symlinks followed inside the root.
  int stat(std::string_view vpath, struct stat* st) const;
  // The parent folder (O_PATH) and the last component, for the *at() calls.
  int open_parent(std::string_view vpath, Fd* dir, std::string* leaf) const;

  int unlink(std::string_view vpath) const;
  int rmdir(std::string_view vpath) const;
  int mkdir(std::string_view vpath, mode_t mode) const;
  int rename(std::string_view from, std::string_view to) const;
  // chmod(2) and utimensat(2) of the target, symlinks followed inside the root (MFMT, MFF, SITE
  // CHMOD). The *at() calls on the parent would follow a last-component symlink anywhere, so
  // these act on the target the kernel resolved in the root instead.
  int chmod(std::string_view vpath, mode_t mode) const;
  int set_times(std::string_view vpath, const struct timespec times[2]) const;

 private:
  Fd root_;
};

}  // namespace nm::ftp
