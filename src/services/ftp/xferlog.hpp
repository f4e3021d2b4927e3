#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "net/address.hpp"
#include "session/session.hpp"

namespace nm {

// One transfer in the standard xferlog format (wu-ftpd's, as vsftpd's xferlog_std_format writes
// it), which log analysers and fail2ban-era tools read:
//   Mon Dec  1 23:05:25 2026 1 127.0.0.1 1024 /path b _ o r alice ftp 0 * c
struct XferRecord {
  std::time_t when = 0;  // the end of the transfer
  int64_t seconds = 0;   // transfer time, rounded, at least 1 as wu-ftpd wrote it
  std::string host;      // remote host, numeric
  uint64_t bytes = 0;
  std::string path;        // the client's view of the file
  bool ascii = false;      // a: ASCII, b: binary
  bool incoming = false;   // i: upload, o: download
  bool anonymous = false;  // access mode a (anonymous) or r (real user)
  std::string user;
  bool complete = false;  // c: complete, i: incomplete
};

// The line, '\n' included. Whitespace and control characters in the path and user become '_'
// so that every field stays one word.
std::string format_xferlog(const XferRecord& record);

// Append-only xferlog: O_APPEND and one write(2) per line, so lines from threads and from forked
// children never interleave. Reopened after a SIGHUP (logrotate), checked on the next line.
class XferLog {
 public:
  explicit XferLog(std::string path);  // throws std::system_error when the file cannot be opened
  ~XferLog();
  XferLog(const XferLog&) = delete;
  XferLog& operator=(const XferLog&) = delete;

  const std::string& path() const { return path_; }
  // Logs RETR, STOR, STOU and APPE; other verbs (listings) are no file transfers and are skipped.
  void record(std::string_view verb, std::string_view path, const TransferResult& result,
              std::chrono::steady_clock::time_point started, const Address& peer, bool ascii,
              std::string_view user);
  void write(const XferRecord& record);

 private:
  void reopen_if_asked();
  std::string path_;
  int fd_ = -1;
  std::atomic<unsigned> generation_{0};
};

}  // namespace nm
