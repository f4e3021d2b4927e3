#pragma once

#include "net/fd.hpp"
#include "services/ftp/quota_table.hpp"

namespace nm::ftp {

// The login walk of a user with a quota: the regular files under the user's root and their
// sizes, as a WorkRequest job (it reads every folder: never on an event loop). Symlinks are not
// followed (a link takes no room of the user's), upload temporaries are left out (the uploads in
// flight hold reservations for them), and folders deeper than kMaxDepth are not entered (a
// descriptor per level). Filled on the session's thread, run on the job's, read back after.
struct StoredScan {
  static constexpr int kMaxDepth = 64;

  Fd root;  // the user's root, O_RDONLY | O_DIRECTORY; the job owns it
  QuotaUsage stored;
  int error = 0;

  void run();
};

}  // namespace nm::ftp
