// Information and transfer parameters: NOOP, SYST, FEAT, OPTS, HELP, STAT, TYPE, MODE, STRU,
// ALLO, REST, and the verbs this server knows but does not do. Nothing here touches a file but
// STAT with a path, which is a listing (file_commands.cpp).

#include <algorithm>
#include <string>
#include <vector>

#include "services/ftp/parameters.hpp"
#include "services/ftp/reply.hpp"
#include "services/ftp/session.hpp"

namespace nm::ftp {
namespace {

// "HASH" stands for the line with the session's selection starred (hash_feature()).
const char* const kFeatures[] = {
    "EPRT",
    "EPSV",
    "HASH",
    "MDTM",
    "MFF Modify;UNIX.mode;",
    "MFMT",
    "MLST type*;size*;modify*;perm*;unique*;",
    "PASV",
    "RANG STREAM",
    "REST STREAM",
    "SIZE",
    "TVFS",
    "UTF8",
};

}  // namespace

void FtpSession::cmd_noop(const std::string&, Buffer& out) {
  reply(out, 200, "NOOP ok.");
}

void FtpSession::cmd_syst(const std::string&, Buffer& out) {
  reply(out, 215, "UNIX Type: L8");
}

void FtpSession::cmd_feat(const std::string&, Buffer& out) {
  std::vector<std::string> lines(std::begin(kFeatures), std::end(kFeatures));
  for (auto& line : lines) {
    if (line == "HASH") line = hash_feature(hash_algorithm_);
  }
  if (config_.tls != TlsLevel::kOff) {
    // What FileZilla, curl and lftp look for before they try AUTH TLS (RFC 4217 section 6).
    for (const char* feature : {"AUTH TLS", "PBSZ", "PROT"}) lines.emplace_back(feature);
    std::sort(lines.begin(), lines.end());
  }
  reply_lines(out, 211, "Features:", lines, "End");
}

void FtpSession::cmd_opts(const std::string& arg, Buffer& out) {
  auto u = to_upper(arg);
  if (u == "UTF8 ON" || u == "UTF8" || u == "UTF-8 ON") {
    reply(out, 200, "Always in UTF8 mode.");
  } else if (u.rfind("MLST", 0) == 0) {
    // Every fact is always sent; say so, as RFC 3659 lets a server do.
    reply(out, 200, "MLST OPTS type;size;modify;perm;unique;");
  } else if (u == "HASH" || u.rfind("HASH ", 0) == 0) {
    opts_hash(u.size() > 5 ? std::string_view(arg).substr(5) : std::string_view(), out);
  } else if (u.rfind("UTF8", 0) == 0) {
    reply(out, 504, "Only UTF8 ON is supported.");
  } else {
    reply(out, 501, "Option not understood.");
  }
}

void FtpSession::cmd_help(const std::string&, Buffer& out) {
  std::vector<std::string> lines = {
      "ABOR ALLO APPE AUTH CCC  CDUP CWD  DELE EPRT EPSV FEAT HASH HELP",
      "LIST MDTM MFF  MFMT MKD  MLSD MLST MODE NLST NOOP OPTS PASS PASV",
      "PBSZ PORT PROT PWD  QUIT RANG REIN REST RETR RMD  RNFR RNTO SITE",
      "SIZE STAT STOR STOU STRU SYST TYPE USER XCUP XCWD XMKD XPWD XRMD"};
  reply_lines(out, 214, "The following commands are recognized.", lines, "Help OK.");
}

// A bare STAT reports on the session (and jumps the queue during a transfer, see
// session_state.cpp); STAT with a path lists it over the control connection.
void FtpSession::cmd_stat(const std::string& arg, Buffer& out) {
  if (!arg.empty()) {
    start_listing(arg, ListingFormat::kStat, out);
    return;
  }
  std::vector<std::string> lines = {
      "Connected to " + info_.peer.host(),
      "Logged in as " + user_,
      std::string("TYPE: ") + (ascii_ ? "ASCII" : "BINARY") + ", STRU: File, MODE: Stream",
      "Working folder " + cwd_,
  };
  if (transfer_) lines.push_back(transfer_->verb + " " + transfer_->path + " in progress");
  if (passive_open_) lines.emplace_back("Passive listener open");
  reply_lines(out, 211, "FTP server status:", lines, "End of status.");
}

void FtpSession::cmd_type(const std::string& arg, Buffer& out) {
  if (arg.empty()) {
    reply(out, 501, "TYPE needs an argument.");
    return;
  }
  switch (parse_type_argument(arg)) {
    case TypeArgument::kBinary:
      ascii_ = false;
      reply(out, 200, "Switching to Binary mode.");
      break;
    case TypeArgument::kAscii:
      ascii_ = true;
      reply(out, 200, "Switching to ASCII mode.");
      break;
    case TypeArgument::kUnsupported:
      reply(out, 504, "Type not supported.");
      break;
    case TypeArgument::kInvalid:
      reply(out, 501, "Unknown type.");
      break;
  }
}

void FtpSession::cmd_mode(const std::string& arg, Buffer& out) {
  auto u = to_upper(arg);
  if (u == "S") {
    reply(out, 200, "Mode set to S.");
  } else if (u == "B" || u == "C" || u == "Z") {
    reply(out, 504, "Only stream mode is supported.");
  } else {
    reply(out, 501, "Unknown mode.");
  }
}

void FtpSession::cmd_stru(const std::string& arg, Buffer& out) {
  auto u = to_upper(arg);
  if (u == "F") {
    reply(out, 200, "Structure set to F.");
  } else if (u == "R" || u == "P") {
    reply(out, 504, "Only file structure is supported.");
  } else {
    reply(out, 501, "Unknown structure.");
  }
}

void FtpSession::cmd_rest(const std::string& arg, Buffer& out) {
  auto offset = parse_u64(arg);
  if (!offset) {
    reply(out, 501, "REST needs a byte offset.");
    return;
  }
  rest_ = *offset;
  reply(out, 350, "Restarting at " + std::to_string(*offset) + ". Send STOR or RETR.");
}

void FtpSession::cmd_unimplemented(const std::string&, Buffer& out) {
  reply(out, 502, "Command not implemented.");
}

}  // namespace nm::ftp
