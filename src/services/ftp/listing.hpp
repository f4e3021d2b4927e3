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

// The entries of folder `vpath`, sorted by name. Dot files are left out unless `show_hidden`;
// "." and "..", names holding CR or LF (they would break the listing's lines) and symlinks that
// lead nowhere inside the root are always left out. Symlinks show as what they point to.
int read_folder(const PathJail& jail, std::string_view vpath, bool show_hidden,
                std::vector<DirEntry>* entries);

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
