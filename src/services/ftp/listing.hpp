#pragma once

#include <sys/stat.h>

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "services/ftp/ftp_config.hpp"
#include "services/ftp/path_jail.hpp"

namespace nm::ftp {

struct DirEntry {
  std::string name;
  struct stat st {};
};

// Uploads in progress live under this prefix; they are never listed, whatever --show-hidden says.
inline constexpr std::string_view kUploadPrefix = ".nm-upload-";
bool is_upload_temp(std::string_view name);

// The entries of `folder` (opened O_RDONLY | O_DIRECTORY; closed here), which is `vpath` in
// `jail`, sorted by name. Dot files are left out unless `show_hidden`; "." and "..", names holding
// CR or LF (they would break the listing's lines) and symlinks that lead nowhere inside the root
// are always left out. Symlinks show as what they point to, resolved inside `jail`.
int read_folder(Fd folder, const PathJail& jail, std::string_view vpath, bool show_hidden,
                std::vector<DirEntry>* entries);

// kList: `ls -l` lines (LIST); kNlst: names (NLST); kMlsd: RFC 3659 facts (MLSD); kStat: `ls -l`
// lines for the 213 reply of STAT with a path.
enum class ListingFormat { kList, kNlst, kMlsd, kStat };

// One line per entry, without line ends.
std::vector<std::string> listing_lines(const std::vector<DirEntry>& entries, ListingFormat format,
                                       const FtpRights& rights, time_t now);
// The same lines, each ended by CRLF, as the data connection carries them.
std::string listing_text(const std::vector<DirEntry>& entries, ListingFormat format,
                         const FtpRights& rights, time_t now);

// A listing made and formatted off the session's thread (the job of a WorkRequest). It owns every
// descriptor it uses, so the session may close or reuse its own meanwhile. Built on the session's
// thread, run() on any one thread, then read back on the session's thread.
struct FolderListing {
  // What to list: `folder` (with `jail`, a duplicate of the session's root, for symlinks), or
  // no folder and `entries` already filled (a single file).
  Fd folder;
  PathJail jail;
  std::string vpath;
  bool show_hidden = false;
  ListingFormat format = ListingFormat::kList;
  FtpRights rights;

  // The answer: an errno value, or the listing (`lines` for kStat, `text` otherwise).
  int error = 0;
  std::vector<DirEntry> entries;
  std::vector<std::string> lines;
  std::string text;

  void run();
};

// One `ls -l` line as FileZilla, lftp and curl parse it, CRLF included:
// "-rw-r--r-- 1 ftp ftp 1234 Jan 02 12:34 name"; files older than six months (or in the future)
// show the year instead of the time.
std::string list_line(const DirEntry& entry, time_t now);

// RFC 3659 facts and name, without line end: "type=file;size=3;modify=...;perm=r;unique=..; a".
// `type` overrides the type fact ("cdir", "pdir") when not empty.
std::string mlsx_line(const DirEntry& entry, const FtpRights& rights, std::string_view type = {});

// "YYYYMMDDHHMMSS" in UTC (MDTM, modify=).
std::string ftp_time(time_t t);

}  // namespace nm::ftp
