// SITE and its subcommands: CHMOD (octal modes, as lftp's `mirror --perms`, tnftp's `chmod` and
// FileZilla send it) and HELP. Unknown subcommands get 500, as vsftpd answers them.

#include <string>
#include <vector>

#include "services/ftp/command.hpp"
#include "services/ftp/parameters.hpp"
#include "services/ftp/reply.hpp"
#include "services/ftp/session.hpp"

namespace nm::ftp {

void FtpSession::cmd_site(const std::string& arg, Buffer& out) {
  std::string_view rest = arg;
  auto space = rest.find(' ');
  std::string sub = to_upper(rest.substr(0, space));
  rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  if (sub == "CHMOD") {
    site_chmod(rest, out);
  } else if (sub == "HELP") {
    site_help(out);
  } else {
    reply(out, 500,
          sub.empty() ? "SITE needs a command (SITE HELP lists them)."
                      : "Unknown SITE command (SITE HELP lists them).");
  }
}

void FtpSession::site_chmod(std::string_view arg, Buffer& out) {
  auto words = split_first_word(arg);
  if (!words) {
    reply(out, 501, "SITE CHMOD needs an octal mode and a path.");
    return;
  }
  std::string vpath;
  if (!resolve_existing_writable(words->second, &vpath, out)) return;
  auto mode = allowed_mode(vpath, words->first, out);
  if (!mode) return;
  if (int err = jail_.chmod(vpath, *mode)) {
    reply_errno(out, err);
    return;
  }
  reply(out, 200, "SITE CHMOD command ok.");
}

void FtpSession::site_help(Buffer& out) {
  reply_lines(
      out, 214, "The following SITE commands are recognized.",
      {"CHMOD <octal mode> <path>   permission bits only (no setuid, setgid, sticky)", "HELP"},
      "Help OK.");
}

}  // namespace nm::ftp
