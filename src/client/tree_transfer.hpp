#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "client/file_transfer.hpp"
#include "client/ftp_connection.hpp"

namespace nm::client {

// What a transfer of many files did, for the closing total.
struct BatchReport {
  size_t files = 0;     // moved now
  size_t complete = 0;  // resume found them already complete
  size_t failed = 0;
  uint64_t bytes = 0;
  double seconds = 0;
};

// A batch ended early, by a lost connection or Ctrl-C; the file it stopped at was reported to
// FileDone already, with the reason.
class BatchStopped : public std::runtime_error {
 public:
  explicit BatchStopped(const BatchReport& so_far)
      : std::runtime_error("stopped"), so_far_(so_far) {}
  const BatchReport& so_far() const { return so_far_; }

 private:
  BatchReport so_far_;
};

// Called after each file with its report and, when it failed, the reason (null otherwise).
using FileDone = std::function<void(const TransferReport& report, const std::exception* error)>;

// The remote files `pattern` names. A wildcard (* ? [...], in the last part only) is matched
// here against the listing of its folder, never sent to the server (whose globbing, if any,
// differs from one server to the next); a leading dot is matched only by a dot, as in a shell.
// Folders are left out. A word without a wildcard is taken as it is.
std::vector<std::string> remote_matches(FtpConnection& conn, const std::string& pattern);
// The local files `pattern` names, by glob(3); folders are left out.
std::vector<std::string> local_matches(const std::string& pattern);

// Moves `files` one by one into the working folder (get) or the remote one (put); a file that
// fails is reported and the others go on; a broken control connection or Ctrl-C ends the batch
// with BatchStopped.
BatchReport download_files(FtpConnection& conn, const std::vector<std::string>& files,
                           const TransferOptions& options, const FileDone& done);
BatchReport upload_files(FtpConnection& conn, const std::vector<std::string>& files,
                         const TransferOptions& options, const FileDone& done);

// The remote folder `remote` and everything under it, into the local folder `local` (created
// as needed; empty: the remote folder's name here). -c resumes file by file.
BatchReport download_tree(FtpConnection& conn, const std::string& remote, const std::string& local,
                          const TransferOptions& options, const FileDone& done);
// The local folder `local` and everything under it, into `remote` (created as needed; empty:
// the local folder's name in the remote working folder). Only regular files and folders are
// sent; symbolic links are followed.
BatchReport upload_tree(FtpConnection& conn, const std::string& local, const std::string& remote,
                        const TransferOptions& options, const FileDone& done);

}  // namespace nm::client
