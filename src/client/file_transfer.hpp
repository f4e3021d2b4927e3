#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "client/ftp_connection.hpp"
#include "client/remote_listing.hpp"

namespace nm::client {

// Something on our side went wrong: a missing local file, a full disk.
class LocalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TransferOptions {
  bool resume = false;    // get -c / put -c
  bool progress = false;  // draw a progress bar on stderr
};

struct TransferReport {
  std::string local;    // the local file, "-" for stdout
  std::string remote;   // the remote name
  uint64_t offset = 0;  // bytes already there before a resumed transfer
  uint64_t bytes = 0;   // bytes moved now
  double seconds = 0;
  bool already_complete = false;  // resume found nothing left to move
  std::string partial;            // on failure: where the bytes received so far were kept
};

// Where a download lands while it runs: "dir/b.txt" -> "dir/.b.txt.part".
std::string partial_name(const std::string& local);

// Downloads `remote` to `local_arg` (empty: the remote base name here; a folder: into it; "-":
// stdout). The bytes land under partial_name() and are renamed into place at the end; a resumed
// download continues that partial file, or the local file itself.
// On failure `report->partial` names any partial file kept, then the error is rethrown.
void download(FtpConnection& conn, const std::string& remote, const std::string& local_arg,
              const TransferOptions& options, TransferReport* report);
// Uploads `local` as `remote_arg` (empty: its base name; ending in '/': into that folder).
// A resumed upload asks the remote size and appends the rest (APPE).
void upload(FtpConnection& conn, const std::string& local, const std::string& remote_arg,
            const TransferOptions& options, TransferReport* report);

}  // namespace nm::client
