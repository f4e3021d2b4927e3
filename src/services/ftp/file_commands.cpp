#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <memory>
#include <random>
#include <vector>

#include "services/ftp/listing.hpp"
#include "services/ftp/reply.hpp"
#include "services/ftp/session.hpp"
#include "services/ftp/upload_names.hpp"

// The commands that read and change files and folders (CWD, listings, RETR, uploads, SIZE,
// MDTM, DELE, RNFR / RNTO, MKD, RMD), each through the session's PathJail.

namespace nm::ftp {
namespace {

enum UploadKind { kStor, kAppe, kStou };

// LIST takes ls-style options ("-la") that clients add out of habit; they change nothing here.
std::string strip_list_options(const std::string& arg) {
  std::string_view rest = arg;
  while (!rest.empty() && rest.front() == '-') {
    auto space = rest.find(' ');
    if (space == std::string_view::npos) return {};
    rest.remove_prefix(space);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  }
  return std::string(rest);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Paths and folders

bool FtpSession::resolve(const std::string& arg, std::string* vpath, Buffer& out) {
  int err = normalize_path(cwd_, arg, vpath);
  if (err == EINVAL) {
    reply(out, 501, "Invalid character in file name.");
    return false;
  }
  if (err != 0) {
    reply(out, 550, "File name too long.");
    return false;
  }
  std::string parent, leaf;
  split_parent(*vpath, &parent, &leaf);
  if (is_upload_temp(leaf)) {
    reply(out, 550, "No such file or directory.");
    return false;
  }
  return true;
}

bool FtpSession::allowed(bool right, Buffer& out) {
  if (!right) reply(out, 550, "Permission denied.");
  return right;
}

bool FtpSession::stat_readable(const std::string& arg, std::string* vpath, struct stat* st,
                               Buffer& out) {
  if (!resolve(arg, vpath, out) || !allowed(rights_.read, out)) return false;
  if (int err = jail_.stat(*vpath, st)) {
    reply_errno(out, err);
    return false;
  }
  return true;
}

void FtpSession::cmd_pwd(const std::string&, Buffer& out) {
  reply(out, 257, quote_path(cwd_) + " is the current directory.");
}

void FtpSession::cmd_cwd(const std::string& arg, Buffer& out) {
  std::string vpath;
  if (!resolve(arg.empty() ? "/" : arg, &vpath, out)) return;
  Fd dir;
  if (int err = jail_.open(vpath, O_PATH | O_DIRECTORY, &dir)) {
    reply_errno(out, err);
    return;
  }
  cwd_ = vpath;
  reply(out, 250, "Directory successfully changed.");
}

void FtpSession::cmd_cdup(const std::string&, Buffer& out) {
  cmd_cwd("..", out);
}

// ---------------------------------------------------------------------------------------------
// Listings

// LIST, NLST, MLSD and STAT with a path. A folder is read and formatted by a WorkRequest job that
// owns the folder's descriptor and a duplicate of the root (for symlinks); a single file is one
// stat away and is formatted here. The data connection is checked first: no job for a listing
// that could not be sent.
void FtpSession::start_listing(const std::string& arg, ListingFormat format, Buffer& out) {
  std::string vpath;
  struct stat st {};
  std::string path = format == ListingFormat::kMlsd ? arg : strip_list_options(arg);
  if (!stat_readable(path, &vpath, &st, out)) return;
  auto listing = std::make_shared<FolderListing>();
  listing->vpath = vpath;
  listing->show_hidden = config_.show_hidden;
  listing->format = format;
  listing->rights = rights_;
  bool folder = S_ISDIR(st.st_mode);
  if (folder) {
    int err = jail_.open(vpath, O_RDONLY | O_DIRECTORY, &listing->folder);
    if (err == 0) err = jail_.duplicate(&listing->jail);
    if (err != 0) {
      reply_errno(out, err);
      return;
    }
  } else if (format == ListingFormat::kMlsd) {
    reply(out, 501, "Not a directory.");
    return;
  } else {
    std::string parent, leaf;
    split_parent(vpath, &parent, &leaf);
    listing->entries.push_back(DirEntry{leaf, st});
  }
  if (format != ListingFormat::kStat && !data_ready(out)) return;
  if (!folder) {
    listing->run();
    finish_listing(*listing, out);
    return;
  }
  start_work([listing] { listing->run(); },
             [this, listing](Buffer& done_out) { finish_listing(*listing, done_out); });
}

void FtpSession::finish_listing(FolderListing& listing, Buffer& out) {
  if (listing.error != 0) {
    reply_errno(out, listing.error);
    return;
  }
  if (listing.format == ListingFormat::kStat) {
    reply_lines(out, 213, "Status of " + listing.vpath + ":", listing.lines, "End of status.");
    return;
  }
  TransferRequest request;
  request.direction = TransferRequest::Direction::kSend;
  request.memory = std::move(listing.text);
  static const char* const kVerbs[] = {"LIST", "NLST", "MLSD"};
  Transfer transfer{kVerbs[static_cast<int>(listing.format)],
                    listing.vpath,
                    std::nullopt,
                    {},
                    nullptr,
                    std::nullopt};
  start_transfer(std::move(request), std::move(transfer), "Here comes the directory listing.", out);
}

void FtpSession::cmd_list(const std::string& arg, Buffer& out) {
  start_listing(arg, ListingFormat::kList, out);
}
void FtpSession::cmd_nlst(const std::string& arg, Buffer& out) {
  start_listing(arg, ListingFormat::kNlst, out);
}
void FtpSession::cmd_mlsd(const std::string& arg, Buffer& out) {
  start_listing(arg, ListingFormat::kMlsd, out);
}

void FtpSession::cmd_mlst(const std::string& arg, Buffer& out) {
  std::string vpath;
  struct stat st {};
  if (!stat_readable(arg, &vpath, &st, out)) return;
  DirEntry entry{vpath, st};
  reply_lines(out, 250, "Listing " + vpath, {mlsx_line(entry, rights_)}, "End.");
}

// ---------------------------------------------------------------------------------------------
// Files

void FtpSession::cmd_retr(const std::string& arg, Buffer& out) {
  std::string vpath;
  if (!resolve(arg, &vpath, out) || !allowed(rights_.read, out)) return;
  Fd file;
  if (int err = jail_.open(vpath, O_RDONLY | O_NOCTTY | O_NONBLOCK, &file)) {
    reply_errno(out, err);
    return;
  }
  struct stat st {};
  if (::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    reply(out, 550, "Not a plain file.");
    return;
  }
  // O_NONBLOCK only kept a FIFO from blocking the open; regular files ignore it, clear it anyway.
  ::fcntl(file.get(), F_SETFL, O_RDONLY);
  if (rest_ > static_cast<uint64_t>(st.st_size)) {
    reply(out, 554, "Restart offset is past the end of the file.");
    rest_ = 0;
    return;
  }
  if (!data_ready(out)) return;
  TransferRequest request;
  request.direction = TransferRequest::Direction::kSend;
  request.file = std::move(file);
  request.offset = rest_;
  std::string message = std::string("Opening ") + (ascii_ ? "ASCII" : "BINARY") +
                        " mode data connection for " + vpath + " (" + std::to_string(st.st_size) +
                        " bytes).";
  start_transfer(std::move(request),
                 Transfer{"RETR", vpath, std::nullopt, {}, nullptr, std::nullopt}, message, out);
}

int FtpSession::make_temp(const Fd& dir, std::string* name, Fd* file) {
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  // One generator per thread rather than per session: its 2.5 KB of state would be most of an
  // idle session's memory.
  static thread_local std::mt19937_64 random_{std::random_device{}()};
  for (int attempt = 0; attempt < 32; ++attempt) {
    std::string random;
    for (size_t i = 0; i < kUploadRandomChars; ++i) {
      random.push_back(kChars[random_() % (sizeof(kChars) - 1)]);
    }
    std::string candidate = upload_temp_name(config_.instance_id, random);
    int fd = ::openat(dir.get(), candidate.c_str(),
                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, file_mode());
    if (fd >= 0) {
      file->reset(fd);
      *name = std::move(candidate);
      return 0;
    }
    if (errno != EEXIST) return errno;
  }
  return EEXIST;
}

void FtpSession::start_upload(const std::string& arg, int kind, Buffer& out) {
  static const char* const kVerbs[] = {"STOR", "APPE", "STOU"};
  std::string vpath;
  std::string path = arg;
  if (kind == kStou) {
    std::string parent, leaf;
    split_parent(arg, &parent, &leaf);
    path = leaf.empty() ? "file" : leaf;
  } else if (arg.empty()) {
    reply(out, 501, std::string(kVerbs[kind]) + " needs a file name.");
    return;
  }
  if (!resolve(path, &vpath, out) || !allowed(rights_.write, out)) return;
  if (!data_ready(out)) return;

  if (kind == kStou) {
    // A name nobody uses yet: "file", "file.1", "file.2"...; renameat2(RENAME_NOREPLACE) at the
    // end keeps it unique even if another session takes it meanwhile.
    struct stat st {};
    std::string base = vpath;
    for (int n = 1; jail_.stat(vpath, &st) != ENOENT; ++n) {
      if (n > 999) {
        reply(out, 450, "No unique name available.");
        return;
      }
      vpath = base + "." + std::to_string(n);
    }
  }
  struct stat st {};
  int serr = jail_.stat(vpath, &st);
  if (serr == 0 && S_ISDIR(st.st_mode)) {
    reply(out, 550, "Is a directory.");
    return;
  }
  if (serr == 0 && !S_ISREG(st.st_mode)) {
    reply(out, 550, "Not a plain file.");
    return;
  }

  TransferRequest request;
  request.direction = TransferRequest::Direction::kReceive;
  Transfer transfer{kVerbs[kind], vpath, std::nullopt, {}, nullptr, std::nullopt};
  if (!open_charge(kind, serr, st, &transfer, &request, out)) return;
  std::string message;

  if (kind == kAppe || (kind == kStor && rest_ > 0)) {
    // Appending and resuming write into the file itself: that is what the client asked for.
    // Only APPE creates a missing file; resuming one that does not exist is an error.
    // O_NONBLOCK: a FIFO swapped in since the stat above must not block the open (ENXIO).
    int flags = O_WRONLY | O_NOCTTY | O_NONBLOCK | (kind == kAppe ? O_APPEND | O_CREAT : 0);
    Fd file;
    if (int err = jail_.open(vpath, flags, &file, file_mode())) {
      reply_errno(out, err);
      return;
    }
    if (::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      reply(out, 550, "Not a plain file.");
      return;
    }
    ::fcntl(file.get(), F_SETFL, kind == kAppe ? O_APPEND : 0);
    if (kind == kStor) {
      if (rest_ > static_cast<uint64_t>(st.st_size)) {
        reply(out, 554, "Restart offset is past the end of the file.");
        rest_ = 0;
        return;
      }
      auto offset = static_cast<off_t>(rest_);
      if (::ftruncate(file.get(), offset) != 0 || ::lseek(file.get(), offset, SEEK_SET) < 0) {
        reply_errno(out, errno);
        return;
      }
    }
    request.file = std::move(file);
    message = "Ok to send data.";
  } else {
    Upload upload;
    if (int err = jail_.open_parent(vpath, &upload.dir, &upload.leaf)) {
      reply_errno(out, err);
      return;
    }
    Fd file;
    if (int err = make_temp(upload.dir, &upload.temp, &file)) {
      reply_errno(out, err);
      return;
    }
    upload.no_replace = kind == kStou;
    request.file = std::move(file);
    message = kind == kStou ? "FILE: " + upload.leaf : "Ok to send data.";
    transfer.upload = std::move(upload);
  }
  start_transfer(std::move(request), std::move(transfer), message, out);
}

void FtpSession::cmd_stor(const std::string& arg, Buffer& out) {
  start_upload(arg, kStor, out);
}
void FtpSession::cmd_appe(const std::string& arg, Buffer& out) {
  start_upload(arg, kAppe, out);
}
void FtpSession::cmd_stou(const std::string& arg, Buffer& out) {
  start_upload(arg, kStou, out);
}

void FtpSession::cmd_size(const std::string& arg, Buffer& out) {
  std::string vpath;
  if (!resolve(arg, &vpath, out) || !allowed(rights_.read, out)) return;
  if (ascii_) {
    reply(out, 550, "SIZE not allowed in ASCII mode.");
    return;
  }
  struct stat st {};
  if (int err = jail_.stat(vpath, &st)) {
    reply_errno(out, err);
    return;
  }
  if (!S_ISREG(st.st_mode)) {
    reply(out, 550, "Not a plain file.");
    return;
  }
  reply(out, 213, std::to_string(st.st_size));
}

void FtpSession::cmd_mdtm(const std::string& arg, Buffer& out) {
  std::string vpath;
  struct stat st {};
  if (!stat_readable(arg, &vpath, &st, out)) return;
  reply(out, 213, ftp_time(st.st_mtime));
}

void FtpSession::cmd_dele(const std::string& arg, Buffer& out) {
  std::string vpath;
  if (!resolve(arg, &vpath, out) || !allowed(rights_.remove, out)) return;
  auto freed = quota_ ? stored_file(vpath) : std::nullopt;
  if (int err = change_stored(freed, [&] { return jail_.unlink(vpath); })) {
    reply_errno(out, err);
    return;
  }
  reply(out, 250, "Delete operation successful.");
}

void FtpSession::cmd_rnfr(const std::string& arg, Buffer& out) {
  rename_from_.reset();
  std::string vpath;
  if (!resolve(arg, &vpath, out) || !allowed(rights_.rename, out)) return;
  Fd dir;
  std::string leaf;
  struct stat st {};
  if (int err = jail_.open_parent(vpath, &dir, &leaf)) {
    reply_errno(out, err);
    return;
  }
  if (::fstatat(dir.get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    reply_errno(out, errno);
    return;
  }
  rename_from_ = std::make_unique<std::string>(vpath);
  reply(out, 350, "Ready for RNTO.");
}

void FtpSession::cmd_rnto(const std::string& arg, Buffer& out) {
  if (!rename_from_) {
    reply(out, 503, "RNFR required first.");
    return;
  }
  std::string from = std::move(*rename_from_);
  rename_from_.reset();
  std::string vpath;
  if (!resolve(arg, &vpath, out) || !allowed(rights_.rename, out)) return;
  // Renamed over a file, that file is gone (renamed onto itself, nothing is).
  auto freed = quota_ && from != vpath ? stored_file(vpath) : std::nullopt;
  if (int err = change_stored(freed, [&] { return jail_.rename(from, vpath); })) {
    reply_errno(out, err);
    return;
  }
  reply(out, 250, "Rename successful.");
}

void FtpSession::cmd_mkd(const std::string& arg, Buffer& out) {
  std::string vpath;
  if (arg.empty()) {
    reply(out, 501, "MKD needs a name.");
    return;
  }
  if (!resolve(arg, &vpath, out) || !allowed(rights_.mkdir, out)) return;
  if (int err = jail_.mkdir(vpath, folder_mode())) {
    reply_errno(out, err);
    return;
  }
  reply(out, 257, quote_path(vpath) + " created.");
}

void FtpSession::cmd_rmd(const std::string& arg, Buffer& out) {
  std::string vpath;
  if (arg.empty()) {
    reply(out, 501, "RMD needs a name.");
    return;
  }
  if (!resolve(arg, &vpath, out) || !allowed(rights_.remove, out)) return;
  if (int err = jail_.rmdir(vpath)) {
    reply_errno(out, err);
    return;
  }
  reply(out, 250, "Remove directory operation successful.");
}

}  // namespace nm::ftp
