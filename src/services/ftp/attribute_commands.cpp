// The commands that change a file's attributes rather than its bytes: MFMT and MFF
// (draft-somers-ftp-mfxx) set the modification time (and, for MFF, the mode); SITE CHMOD
// (site_commands.cpp) shares the mode policy here. All need the write right: changing what a
// file says about itself is writing to it. Everything goes through the PathJail.

#include <fcntl.h>
#include <sys/stat.h>

#include <cstdio>
#include <string>

#include "services/ftp/parameters.hpp"
#include "services/ftp/reply.hpp"
#include "services/ftp/session.hpp"

namespace nm::ftp {

bool FtpSession::resolve_existing_writable(std::string_view arg, std::string* vpath, Buffer& out) {
  if (!resolve(std::string(arg), vpath, out) || !allowed(rights_.write, out)) return false;
  struct stat st {};
  if (int err = jail_.stat(*vpath, &st)) {
    reply_errno(out, err);
    return false;
  }
  return true;
}

// The mode a user may give `vpath`, or nullopt once a reply said why not. Permission bits only:
// setuid or setgid on a file the server's account owns would let anyone who can run it on this
// host run it as that account, setgid on a folder changes the group of everything made in it,
// and the sticky bit changes who may delete there; an FTP user needs none of that. The root
// folder is shared (anonymous users, --user users) and is left as the operator set it.
std::optional<mode_t> FtpSession::allowed_mode(std::string_view vpath, std::string_view text,
                                               Buffer& out) {
  auto mode = parse_octal_mode(text);
  if (!mode) {
    reply(out, 501, "The mode must be octal, such as 644.");
    return std::nullopt;
  }
  if ((*mode & 07000) != 0) {
    reply(out, 550, "Setuid, setgid and sticky bits are not allowed.");
    return std::nullopt;
  }
  if (vpath == "/") {
    reply(out, 550, "The root folder's mode cannot be changed.");
    return std::nullopt;
  }
  return mode;
}

void FtpSession::cmd_mfmt(const std::string& arg, Buffer& out) {
  auto words = split_first_word(arg);
  auto when = words ? parse_ftp_time(words->first) : std::nullopt;
  if (!when) {
    reply(out, 501, "MFMT needs YYYYMMDDHHMMSS[.sss] and a path.");
    return;
  }
  std::string vpath;
  if (!resolve_existing_writable(words->second, &vpath, out)) return;
  const struct timespec times[2] = {{0, UTIME_OMIT}, *when};
  if (int err = jail_.set_times(vpath, times)) {
    reply_errno(out, err);
    return;
  }
  reply(out, 213, "Modify=" + std::string(words->first) + "; " + std::string(words->second));
}

// MFF sets the facts it can change (Modify, UNIX.mode) and leaves out the others, which the 213
// reply then does not list: the client learns exactly what changed. A malformed list or a bad
// value of a settable fact changes nothing (501 / 550); a list with nothing settable gets 504.
void FtpSession::cmd_mff(const std::string& arg, Buffer& out) {
  auto words = split_first_word(arg);
  auto facts = words ? parse_mff_facts(words->first) : std::nullopt;
  if (!facts) {
    reply(out, 501, "MFF needs fact=value; pairs and a path.");
    return;
  }
  std::string vpath;
  if (!resolve_existing_writable(words->second, &vpath, out)) return;
  std::optional<struct timespec> when;
  std::optional<mode_t> mode;
  std::string changed;
  for (const auto& [name, value] : *facts) {
    if (name == "modify") {
      when = parse_ftp_time(value);
      if (!when) {
        reply(out, 501, "Modify wants YYYYMMDDHHMMSS[.sss].");
        return;
      }
      changed += "Modify=" + value + ";";
    } else if (name == "unix.mode") {
      mode = allowed_mode(vpath, value, out);
      if (!mode) return;
      changed += "UNIX.mode=" + value + ";";
    }
  }
  if (changed.empty()) {
    reply(out, 504, "None of these facts can be changed (MFF takes Modify and UNIX.mode).");
    return;
  }
  if (when) {
    const struct timespec times[2] = {{0, UTIME_OMIT}, *when};
    if (int err = jail_.set_times(vpath, times)) {
      reply_errno(out, err);
      return;
    }
  }
  if (mode) {
    if (int err = jail_.chmod(vpath, *mode)) {
      reply_errno(out, err);
      return;
    }
  }
  reply(out, 213, changed + " " + std::string(words->second));
}

}  // namespace nm::ftp
