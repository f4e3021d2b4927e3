#include "services/ftp/path_jail.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <vector>

namespace nm::ftp {

int normalize_path(std::string_view cwd, std::string_view arg, std::string* out) {
  if (arg.find('\0') != std::string_view::npos) return EINVAL;
  std::vector<std::string_view> parts;
  auto walk = [&parts](std::string_view path) {
    size_t i = 0;
    while (i < path.size()) {
      auto slash = path.find('/', i);
      if (slash == std::string_view::npos) slash = path.size();
      auto part = path.substr(i, slash - i);
      i = slash + 1;
      if (part.empty() || part == ".") continue;
      if (part == "..") {
        if (!parts.empty()) parts.pop_back();
        continue;
      }
      parts.push_back(part);
    }
  };
  if (arg.empty() || arg.front() != '/') walk(cwd);
  walk(arg);
  std::string result;
  for (auto part : parts) {
    if (part.size() > NAME_MAX) return ENAMETOOLONG;
    result.push_back('/');
    result.append(part);
  }
  if (result.empty()) result = "/";
  if (result.size() >= PATH_MAX) return ENAMETOOLONG;
  *out = std::move(result);
  return 0;
}

void split_parent(std::string_view vpath, std::string* parent, std::string* leaf) {
  auto slash = vpath.rfind('/');
  if (slash == std::string_view::npos) {
    parent->assign("/");
    leaf->assign(vpath);
    return;
  }
  parent->assign(slash == 0 ? std::string_view("/") : vpath.substr(0, slash));
  leaf->assign(vpath.substr(slash + 1));
}

namespace {

// The path relative to the root fd: "/" is ".", "/a/b" is "a/b".
std::string relative(std::string_view vpath) {
  while (!vpath.empty() && vpath.front() == '/') vpath.remove_prefix(1);
  return vpath.empty() ? std::string(".") : std::string(vpath);
}

}  // namespace

int PathJail::open_root(const std::filesystem::path& root, PathJail* jail) {
  int fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  *jail = PathJail(Fd(fd));
  return 0;
}

int PathJail::duplicate(PathJail* copy) const {
  if (!root_) return EBADF;
  int fd = ::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return errno;
  *copy = PathJail(Fd(fd));
  return 0;
}

int PathJail::open(std::string_view vpath, int flags, Fd* out, mode_t mode) const {
  if (!root_) return EBADF;
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  auto rel = relative(vpath);
  // The kernel answers EAGAIN when a concurrent rename might have let ".." escape; retry a little.
  for (int attempt = 0; attempt < 8; ++attempt) {
    long fd = ::syscall(SYS_openat2, root_.get(), rel.c_str(), &how, sizeof(how));
    if (fd >= 0) {
      out->reset(static_cast<int>(fd));
      return 0;
    }
    if (errno != EAGAIN && errno != EINTR) return errno;
  }
  return EAGAIN;
}

int PathJail::stat(std::string_view vpath, struct stat* st) const {
  Fd fd;
  if (int err = open(vpath, O_PATH, &fd)) return err;
  if (::fstat(fd.get(), st) != 0) return errno;
  return 0;
}

int PathJail::open_parent(std::string_view vpath, Fd* dir, std::string* leaf) const {
  std::string parent;
  split_parent(vpath, &parent, leaf);
  if (leaf->empty()) return EPERM;  // the root itself cannot be removed or renamed
  return open(parent, O_PATH | O_DIRECTORY, dir);
}

int PathJail::unlink(std::string_view vpath) const {
  Fd dir;
  std::string leaf;
  if (int err = open_parent(vpath, &dir, &leaf)) return err;
  struct stat st {};
  if (::fstatat(dir.get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return errno;
  if (S_ISDIR(st.st_mode)) return EISDIR;
  if (::unlinkat(dir.get(), leaf.c_str(), 0) != 0) return errno;
  return 0;
}

int PathJail::rmdir(std::string_view vpath) const {
  Fd dir;
  std::string leaf;
  if (int err = open_parent(vpath, &dir, &leaf)) return err;
  if (::unlinkat(dir.get(), leaf.c_str(), AT_REMOVEDIR) != 0) return errno;
  return 0;
}

int PathJail::mkdir(std::string_view vpath, mode_t mode) const {
  Fd dir;
  std::string leaf;
  if (int err = open_parent(vpath, &dir, &leaf)) return err;
  if (::mkdirat(dir.get(), leaf.c_str(), mode) != 0) return errno;
  return 0;
}

int PathJail::rename(std::string_view from, std::string_view to) const {
  Fd from_dir;
  Fd to_dir;
  std::string from_leaf;
  std::string to_leaf;
  if (int err = open_parent(from, &from_dir, &from_leaf)) return err;
  if (int err = open_parent(to, &to_dir, &to_leaf)) return err;
  if (::renameat(from_dir.get(), from_leaf.c_str(), to_dir.get(), to_leaf.c_str()) != 0) {
    return errno;
  }
  return 0;
}

namespace {

// An O_PATH descriptor cannot be fchmod()ed or futimens()ed (EBADF), but its /proc/self/fd link
// names exactly the inode it holds, and the kernel follows that link to the inode, never to a
// path a client could swap meanwhile. glibc's fchmodat(AT_SYMLINK_NOFOLLOW) does the same.
std::string proc_fd_path(const Fd& fd) {
  return "/proc/self/fd/" + std::to_string(fd.get());
}

}  // namespace

int PathJail::chmod(std::string_view vpath, mode_t mode) const {
  Fd fd;
  if (int err = open(vpath, O_PATH, &fd)) return err;
  if (::chmod(proc_fd_path(fd).c_str(), mode) != 0) return errno;
  return 0;
}

int PathJail::set_times(std::string_view vpath, const struct timespec times[2]) const {
  Fd fd;
  if (int err = open(vpath, O_PATH, &fd)) return err;
  if (::utimensat(AT_FDCWD, proc_fd_path(fd).c_str(), times, 0) != 0) return errno;
  return 0;
}

}  // namespace nm::ftp
