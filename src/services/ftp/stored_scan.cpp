#include "services/ftp/stored_scan.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "services/ftp/listing.hpp"

namespace nm::ftp {
namespace {

// Adds what folder `fd` holds to `out`; takes `fd` (closed by closedir).
int walk(int fd, int depth, QuotaUsage* out) {
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    return err;
  }
  while (dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name == "." || name == ".." || is_upload_temp(name)) continue;
    struct stat st {};
    if (::fstatat(::dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISREG(st.st_mode)) {
      out->bytes += st.st_size;
      out->files += 1;
    } else if (S_ISDIR(st.st_mode) && depth < StoredScan::kMaxDepth) {
      int child =
          ::openat(::dirfd(dir), entry->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child >= 0) walk(child, depth + 1, out);  // an unreadable folder counts for nothing
    }
  }
  ::closedir(dir);
  return 0;
}

}  // namespace

void StoredScan::run() {
  stored = {};
  int fd = ::dup(root.get());
  if (fd < 0) {
    error = errno;
    return;
  }
  // fdopendir reads from the descriptor's offset: a fresh dup shares it, so rewind first.
  ::lseek(fd, 0, SEEK_SET);
  error = walk(fd, 0, &stored);
}

}  // namespace nm::ftp
