#include "services/ftp/upload_sweep.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <system_error>
#include <vector>

#include "net/fd.hpp"
#include "services/ftp/upload_names.hpp"

namespace nm::ftp {
namespace {

// One walk of one root, depth first, a folder's descriptor open per level; owned by
// sweep_uploads() on its caller's thread.
class Sweeper {
 public:
  Sweeper(const SweepOptions& options, const std::function<void(const std::string&, int)>& report)
      : options_(options), report_(report), now_(std::time(nullptr)) {}

  // `folder` is open O_DIRECTORY (closed here); `path` names it in reports.
  void sweep(Fd folder, const std::string& path) {
    struct stat self {};
    if (::fstat(folder.get(), &self) != 0) return fail(path, errno);
    if (device_ == 0) device_ = self.st_dev;
    if (self.st_dev != device_) return;  // a mount point below the root: not this root's files
    int fd = folder.release();
    DIR* dir = ::fdopendir(fd);
    if (dir == nullptr) {
      int err = errno;
      ::close(fd);
      return fail(path, err);
    }
    std::vector<std::string> folders;
    while (dirent* entry = ::readdir(dir)) {
      std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      struct stat st {};
      // AT_SYMLINK_NOFOLLOW: a symlink is looked at as itself, never as what it points to.
      if (::fstatat(::dirfd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      std::string child = path + "/" + name;
      if (S_ISDIR(st.st_mode)) {
        folders.push_back(name);
      } else if (S_ISREG(st.st_mode) && matches(name, st)) {
        remove(::dirfd(dir), name, child);
      }
    }
    for (const auto& name : folders) {
      int sub =
          ::openat(::dirfd(dir), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      // ELOOP: replaced by a symlink since the readdir; left alone like any other.
      if (sub < 0) {
        if (errno != ELOOP && errno != ENOENT) fail(path + "/" + name, errno);
        continue;
      }
      sweep(Fd(sub), path + "/" + name);
    }
    ::closedir(dir);
  }

  SweepResult result() const { return result_; }

 private:
  bool matches(const std::string& name, const struct stat& st) const {
    auto instance = upload_temp_instance(name);
    if (!instance) return false;
    if (options_.instance && *instance != *options_.instance) return false;
    return now_ - st.st_mtime >= options_.older_than.count();
  }

  void remove(int dir, const std::string& name, const std::string& path) {
    if (!options_.dry_run && ::unlinkat(dir, name.c_str(), 0) != 0) {
      if (errno != ENOENT) fail(path, errno);  // ENOENT: its server finished it meanwhile
      return;
    }
    ++result_.removed;
    report_(path, 0);
  }

  void fail(const std::string& path, int error) {
    ++result_.failed;
    report_(path, error);
  }

  const SweepOptions& options_;
  const std::function<void(const std::string&, int)>& report_;
  time_t now_;
  dev_t device_ = 0;
  SweepResult result_;
};

}  // namespace

SweepResult sweep_uploads(const std::string& root, const SweepOptions& options,
                          const std::function<void(const std::string& path, int error)>& report) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), root);
  Sweeper sweeper(options, report);
  std::string path = root;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  sweeper.sweep(Fd(fd), path);
  return sweeper.result();
}

}  // namespace nm::ftp
