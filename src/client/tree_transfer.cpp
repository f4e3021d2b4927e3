#include "client/tree_transfer.hpp"

#include <fmt/format.h>
#include <fnmatch.h>
#include <glob.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>

namespace nm::client {
namespace {

namespace fs = std::filesystem;

// Runs one file's transfer into the batch's counts; only a lost connection stops the batch.
template <typename Move>
void one_file(FtpConnection& conn, BatchReport& batch, const FileDone& done, Move&& move) {
  TransferReport report;
  try {
    move(report);
  } catch (const std::exception& e) {
    ++batch.failed;
    batch.bytes += report.bytes;
    done(report, &e);
    if (!conn.connected() || dynamic_cast<const Interrupted*>(&e)) throw BatchStopped(batch);
    return;
  }
  ++(report.already_complete ? batch.complete : batch.files);
  batch.bytes += report.bytes;
  done(report, nullptr);
}

class Clock {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - began_).count();
  }

 private:
  std::chrono::steady_clock::time_point began_ = std::chrono::steady_clock::now();
};

template <typename Move>
BatchReport each_file(FtpConnection& conn, const std::vector<std::string>& files,
                      const FileDone& done, Move&& move) {
  BatchReport batch;
  Clock clock;
  for (const auto& file : files) {
    one_file(conn, batch, done, [&](TransferReport& r) { move(file, r); });
  }
  batch.seconds = clock.seconds();
  return batch;
}

void make_local_folder(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) throw LocalError(fmt::format("{}: {}", path, ec.message()));
}

void download_folder(FtpConnection& conn, const std::string& remote, const std::string& local,
                     const TransferOptions& options, const FileDone& done, BatchReport& batch) {
  make_local_folder(local);
  for (const auto& entry : conn.entries(remote)) {
    std::string from = join_path(remote, entry.name);
    std::string to = join_path(local, entry.name);
    if (entry.directory) {
      download_folder(conn, from, to, options, done, batch);
    } else {
      one_file(conn, batch, done,
               [&](TransferReport& r) { download(conn, from, to, options, &r); });
    }
  }
}

void upload_folder(FtpConnection& conn, const std::string& local, const std::string& remote,
                   const TransferOptions& options, const FileDone& done, BatchReport& batch) {
  // A folder already there (an earlier, cut run) is fine; anything worse shows in the uploads.
  conn.send("MKD " + remote);
  std::vector<fs::directory_entry> children;
  std::error_code ec;
  for (fs::directory_iterator it(local, ec), end; !ec && it != end; it.increment(ec)) {
    children.push_back(*it);
  }
  if (ec) throw LocalError(fmt::format("{}: {}", local, ec.message()));
  std::sort(children.begin(), children.end());
  for (const auto& child : children) {
    std::string name = child.path().filename().string();
    std::string from = child.path().string();
    std::string to = join_path(remote, name);
    if (child.is_directory(ec)) {
      upload_folder(conn, from, to, options, done, batch);
    } else if (child.is_regular_file(ec)) {
      one_file(conn, batch, done, [&](TransferReport& r) { upload(conn, from, to, options, &r); });
    }
  }
}

}  // namespace

std::vector<std::string> remote_matches(FtpConnection& conn, const std::string& pattern) {
  if (!has_wildcard(pattern)) return {pattern};
  auto slash = pattern.rfind('/');
  std::string dir = slash == std::string::npos ? "" : pattern.substr(0, slash + 1);
  std::string name_pattern = slash == std::string::npos ? pattern : pattern.substr(slash + 1);
  if (has_wildcard(dir)) throw LocalError(pattern + ": a wildcard may only be in the last part");
  std::vector<std::string> found;
  for (const auto& entry : conn.entries(dir)) {
    if (!entry.directory && ::fnmatch(name_pattern.c_str(), entry.name.c_str(), FNM_PERIOD) == 0) {
      found.push_back(dir + entry.name);
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

std::vector<std::string> local_matches(const std::string& pattern) {
  glob_t matches{};
  int rc = ::glob(pattern.c_str(), GLOB_MARK, nullptr, &matches);
  std::vector<std::string> found;
  for (size_t i = 0; rc == 0 && i < matches.gl_pathc; ++i) {
    std::string path = matches.gl_pathv[i];
    if (!path.ends_with('/')) found.push_back(std::move(path));  // GLOB_MARK marks folders
  }
  globfree(&matches);
  if (rc != 0 && rc != GLOB_NOMATCH) throw LocalError(pattern + ": cannot read the folder");
  return found;
}

BatchReport download_files(FtpConnection& conn, const std::vector<std::string>& files,
                           const TransferOptions& options, const FileDone& done) {
  return each_file(conn, files, done, [&](const std::string& file, TransferReport& r) {
    download(conn, file, "", options, &r);
  });
}

BatchReport upload_files(FtpConnection& conn, const std::vector<std::string>& files,
                         const TransferOptions& options, const FileDone& done) {
  return each_file(conn, files, done, [&](const std::string& file, TransferReport& r) {
    upload(conn, file, "", options, &r);
  });
}

BatchReport download_tree(FtpConnection& conn, const std::string& remote, const std::string& local,
                          const TransferOptions& options, const FileDone& done) {
  BatchReport batch;
  Clock clock;
  std::string target = local.empty() ? base_name(remote) : local;
  if (target.empty() || target == "." || target == ".." || target == "/") {
    throw LocalError(fmt::format("{}: give the local folder a name", remote));
  }
  // A file's listing is the file itself on some servers: it must not be taken for a folder.
  if (!conn.is_folder(remote)) throw std::runtime_error(remote + ": not a remote folder");
  download_folder(conn, remote, target, options, done, batch);
  batch.seconds = clock.seconds();
  return batch;
}

BatchReport upload_tree(FtpConnection& conn, const std::string& local, const std::string& remote,
                        const TransferOptions& options, const FileDone& done) {
  std::error_code ec;
  if (!fs::is_directory(local, ec)) throw LocalError(local + ": not a local folder");
  BatchReport batch;
  Clock clock;
  upload_folder(conn, local, remote.empty() ? base_name(local) : remote, options, done, batch);
  batch.seconds = clock.seconds();
  return batch;
}

}  // namespace nm::client
