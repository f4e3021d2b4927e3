#include "client/file_transfer.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "client/progress.hpp"
#include "net/fd.hpp"
#include "net/socket.hpp"

namespace nm::client {
namespace {

std::string local_error(const std::string& path) {
  if (errno == ENOENT) return path + ": no such local file or folder";
  return fmt::format("{}: {}", path, errno_text());
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::optional<uint64_t> file_size(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return static_cast<uint64_t>(st.st_size);
}

void write_file(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw LocalError(fmt::format("writing {}: {}", path, errno_text()));
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// The remote name chooses the local one only through its last part, and never "." or "..".
std::string local_name_for(const std::string& remote) {
  std::string name = base_name(remote);
  if (name.empty() || name == "." || name == ".." || name == "/") {
    throw LocalError(fmt::format("{}: give the local file a name", remote));
  }
  return name;
}

std::string local_target(const std::string& remote, const std::string& local_arg) {
  if (local_arg.empty()) return local_name_for(remote);
  if (local_arg.back() == '/' || is_directory(local_arg)) {
    return local_arg + (local_arg.back() == '/' ? "" : "/") + local_name_for(remote);
  }
  return local_arg;
}

void download_to_stdout(FtpConnection& conn, const std::string& remote, TransferReport* report) {
  Progress clock(remote, std::nullopt, 0, false);
  conn.retrieve(remote, 0, [&](std::string_view chunk) {
    if (std::fwrite(chunk.data(), 1, chunk.size(), stdout) != chunk.size()) {
      throw LocalError("writing to stdout: " + errno_text());
    }
    report->bytes += chunk.size();
  });
  std::fflush(stdout);
  report->seconds = clock.seconds();
}

}  // namespace

std::string partial_name(const std::string& local) {
  auto slash = local.rfind('/');
  std::string dir = slash == std::string::npos ? "" : local.substr(0, slash + 1);
  std::string name = slash == std::string::npos ? local : local.substr(slash + 1);
  return dir + "." + name + ".part";
}

void download(FtpConnection& conn, const std::string& remote, const std::string& local_arg,
              const TransferOptions& options, TransferReport* report) {
  report->remote = remote;
  report->local = local_target(remote, local_arg);
  if (report->local == "-") return download_to_stdout(conn, remote, report);
  if (options.resume && !conn.binary()) {
    throw LocalError("resuming needs binary mode: type `binary` first");
  }
  auto total = conn.binary() ? conn.size(remote) : std::nullopt;

  // A resumed download continues the partial file of an earlier attempt, else the local file.
  std::string writing = partial_name(report->local);
  uint64_t offset = 0;
  if (options.resume) {
    if (auto partial = file_size(writing)) {
      offset = *partial;
    } else if (auto existing = file_size(report->local)) {
      writing = report->local;
      offset = *existing;
    }
    if (total && offset > *total) {
      throw LocalError(fmt::format("{} is larger than the remote file ({} > {} bytes)", writing,
                                   offset, *total));
    }
    if (total && offset == *total) {
      if (writing != report->local && ::rename(writing.c_str(), report->local.c_str()) != 0) {
        throw LocalError(local_error(report->local));
      }
      report->offset = offset;
      report->already_complete = true;
      return;
    }
  }
  report->offset = offset;

  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (offset > 0 ? O_APPEND : O_TRUNC);
  Fd file(::open(writing.c_str(), flags, 0666));
  if (!file) throw LocalError(local_error(writing));
  Progress progress(base_name(remote), total, offset, options.progress);
  try {
    conn.retrieve(remote, offset, [&](std::string_view chunk) {
      write_file(file.get(), chunk, writing);
      report->bytes += chunk.size();
      progress.update(offset + report->bytes);
    });
  } catch (...) {
    // Bytes received are kept for `get -c`; an attempt that got nothing leaves nothing behind.
    if (report->bytes == 0 && offset == 0) {
      ::unlink(writing.c_str());
    } else {
      report->partial = writing;
    }
    throw;
  }
  progress.finish();
  report->seconds = progress.seconds();
  if (::close(file.release()) != 0) throw LocalError(fmt::format("closing {}", writing));
  if (writing != report->local && ::rename(writing.c_str(), report->local.c_str()) != 0) {
    throw LocalError(fmt::format("renaming {} to {}: {}", writing, report->local, errno_text()));
  }
}

void upload(FtpConnection& conn, const std::string& local, const std::string& remote_arg,
            const TransferOptions& options, TransferReport* report) {
  report->local = local;
  report->remote = remote_arg.empty()         ? base_name(local)
                   : remote_arg.back() == '/' ? remote_arg + base_name(local)
                                              : remote_arg;
  Fd file(::open(local.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file) throw LocalError(local_error(local));
  struct stat st {};
  if (::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    throw LocalError(local + ": not a regular file");
  }
  auto size = static_cast<uint64_t>(st.st_size);

  uint64_t offset = 0;
  if (options.resume) {
    if (!conn.binary()) throw LocalError("resuming needs binary mode: type `binary` first");
    if (auto there = conn.size(report->remote)) {
      if (*there > size) {
        throw LocalError(fmt::format("the remote {} is larger than {} ({} > {} bytes)",
                                     report->remote, local, *there, size));
      }
      offset = *there;
    }
    if (offset == size && offset > 0) {
      report->offset = offset;
      report->already_complete = true;
      return;
    }
    if (offset > 0 && ::lseek(file.get(), static_cast<off_t>(offset), SEEK_SET) < 0) {
      throw LocalError(local_error(local));
    }
  }
  report->offset = offset;

  Progress progress(base_name(local), size, offset, options.progress);
  conn.store(report->remote, offset > 0, [&](char* buf, size_t n) -> size_t {
    for (;;) {
      ssize_t got = ::read(file.get(), buf, n);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw LocalError(fmt::format("reading {}: {}", local, errno_text()));
      report->bytes += static_cast<uint64_t>(got);
      progress.update(offset + report->bytes);
      return static_cast<size_t>(got);
    }
  });
  progress.finish();
  report->seconds = progress.seconds();
}

}  // namespace nm::client
