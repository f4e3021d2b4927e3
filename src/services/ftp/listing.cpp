#include "services/ftp/listing.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>

namespace nm::ftp {

bool is_upload_temp(std::string_view name) {
  return name.substr(0, kUploadPrefix.size()) == kUploadPrefix;
}

int read_folder(Fd folder, const PathJail& jail, std::string_view vpath, bool show_hidden,
                std::vector<DirEntry>* entries) {
  DIR* dir = ::fdopendir(folder.get());
  if (dir == nullptr) return errno;
  int dir_fd = folder.release();  // closedir() owns it now
  std::string base(vpath);
  if (base.back() != '/') base.push_back('/');
  errno = 0;
  while (dirent* d = ::readdir(dir)) {
    std::string_view name = d->d_name;
    if (name == "." || name == "..") continue;
    if (name.front() == '.' && !show_hidden) continue;
    if (is_upload_temp(name)) continue;
    if (name.find_first_of("\r\n") != std::string_view::npos) continue;
    DirEntry entry;
    entry.name = name;
    if (::fstatat(dir_fd, d->d_name, &entry.st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISLNK(entry.st.st_mode) && jail.stat(base + entry.name, &entry.st) != 0) continue;
    entries->push_back(std::move(entry));
  }
  ::closedir(dir);
  std::sort(entries->begin(), entries->end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return 0;
}

namespace {

void mode_string(mode_t mode, char* out) {
  char type = '-';
  if (S_ISDIR(mode)) type = 'd';
  if (S_ISLNK(mode)) type = 'l';
  if (S_ISCHR(mode)) type = 'c';
  if (S_ISBLK(mode)) type = 'b';
  if (S_ISFIFO(mode)) type = 'p';
  if (S_ISSOCK(mode)) type = 's';
  out[0] = type;
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) out[1 + i] = (mode & (1 << (8 - i))) ? rwx[i] : '-';
  out[10] = '\0';
}

// The `ls -l` line without its line end.
std::string ls_line(const DirEntry& entry, time_t now) {
  char mode[11];
  mode_string(entry.st.st_mode, mode);
  struct tm tm {};
  time_t mtime = entry.st.st_mtime;
  ::gmtime_r(&mtime, &tm);
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  constexpr time_t kSixMonths = 182L * 24 * 3600;
  bool recent = mtime <= now + 3600 && now - mtime < kSixMonths;
  char when[48];
  if (recent) {
    std::snprintf(when, sizeof(when), "%s %2d %02d:%02d", kMonths[tm.tm_mon % 12], tm.tm_mday,
                  tm.tm_hour, tm.tm_min);
  } else {
    std::snprintf(when, sizeof(when), "%s %2d  %4d", kMonths[tm.tm_mon % 12], tm.tm_mday,
                  tm.tm_year + 1900);
  }
  char head[160];
  std::snprintf(head, sizeof(head), "%s %3lu ftp      ftp      %12llu %s ", mode,
                static_cast<unsigned long>(entry.st.st_nlink),
                static_cast<unsigned long long>(entry.st.st_size), when);
  std::string line = head;
  line += entry.name;
  return line;
}

std::string listing_line(const DirEntry& entry, ListingFormat format, const FtpRights& rights,
                         time_t now) {
  switch (format) {
    case ListingFormat::kNlst:
      return entry.name;
    case ListingFormat::kMlsd:
      return mlsx_line(entry, rights);
    case ListingFormat::kList:
    case ListingFormat::kStat:
      break;
  }
  return ls_line(entry, now);
}

}  // namespace

std::string list_line(const DirEntry& entry, time_t now) {
  return ls_line(entry, now) + "\r\n";
}

std::vector<std::string> listing_lines(const std::vector<DirEntry>& entries, ListingFormat format,
                                       const FtpRights& rights, time_t now) {
  std::vector<std::string> lines;
  lines.reserve(entries.size());
  for (const auto& e : entries) lines.push_back(listing_line(e, format, rights, now));
  return lines;
}

std::string listing_text(const std::vector<DirEntry>& entries, ListingFormat format,
                         const FtpRights& rights, time_t now) {
  std::string text;
  for (const auto& e : entries) {
    text += listing_line(e, format, rights, now);
    text += "\r\n";
  }
  return text;
}

void FolderListing::run() {
  if (folder) {
    error = read_folder(std::move(folder), jail, vpath, show_hidden, &entries);
    if (error != 0) return;
  }
  time_t now = ::time(nullptr);
  if (format == ListingFormat::kStat) {
    lines = listing_lines(entries, format, rights, now);
  } else {
    text = listing_text(entries, format, rights, now);
  }
}

std::string ftp_time(time_t t) {
  struct tm tm {};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string mlsx_line(const DirEntry& entry, const FtpRights& rights, std::string_view type) {
  bool dir = S_ISDIR(entry.st.st_mode);
  std::string perm;
  if (dir) {
    perm = "e";
    if (rights.read) perm += "l";
    if (rights.write) perm += "c";
    if (rights.mkdir) perm += "m";
    if (rights.remove) perm += "dp";
    if (rights.rename) perm += "f";
  } else {
    if (rights.read) perm += "r";
    if (rights.write) perm += "aw";
    if (rights.remove) perm += "d";
    if (rights.rename) perm += "f";
  }
  std::string line = "type=";
  line += type.empty() ? (dir ? "dir" : (S_ISREG(entry.st.st_mode) ? "file" : "OS.unix=special"))
                       : type;
  if (!dir) line += ";size=" + std::to_string(entry.st.st_size);
  line += ";modify=" + ftp_time(entry.st.st_mtime);
  line += ";perm=" + perm;
  char unique[48];
  std::snprintf(unique, sizeof(unique), ";unique=%llxU%llx;",
                static_cast<unsigned long long>(entry.st.st_dev),
                static_cast<unsigned long long>(entry.st.st_ino));
  line += unique;
  line += ' ';
  line += entry.name;
  return line;
}

}  // namespace nm::ftp
