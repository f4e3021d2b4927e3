#include "services/ftp/session.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "net/logfmt.hpp"
#include "services/ftp/auth.hpp"
#include "services/ftp/listing.hpp"
#include "services/ftp/reply.hpp"

namespace nm::ftp {
namespace {

std::string upper(std::string_view s) {
  std::string u(s);
  for (auto& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

bool parse_u64(std::string_view s, uint64_t* value) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *value);
  return ec == std::errc() && end == s.data() + s.size();
}

// The IPv4 dotted host of a v4 or v4-mapped v6 address, empty otherwise.
std::string ipv4_host(const Address& a) {
  if (a.is_v4()) return a.host();
  if (a.is_v4_mapped()) {
    auto h = a.host();
    return h.substr(h.rfind(':') + 1);
  }
  return {};
}

bool is_ipv6_only(const Address& a) {
  return a.is_v6() && !a.is_v4_mapped();
}

int64_t elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               since)
      .count();
}

const char* status_name(TransferResult::Status s) {
  switch (s) {
    case TransferResult::Status::kOk:
      return "ok";
    case TransferResult::Status::kAborted:
      return "aborted";
    case TransferResult::Status::kNoConnection:
      return "no-connection";
    case TransferResult::Status::kConnectionLost:
      return "connection-lost";
    case TransferResult::Status::kTimeout:
      return "timeout";
    case TransferResult::Status::kFileError:
      return "file-error";
  }
  return "unknown";
}

const char* const kFeatures[] = {
    "EPRT", "EPSV", "MDTM", "MLST type*;size*;modify*;perm*;unique*;", "PASV", "REST STREAM",
    "SIZE", "TVFS", "UTF8"};

}  // namespace

const FtpSession::CommandSpec* FtpSession::find_command(std::string_view verb) {
  static const std::unordered_map<std::string_view, CommandSpec> kCommands = {
      {"USER", {&FtpSession::cmd_user, false}},
      {"PASS", {&FtpSession::cmd_pass, false}},
      {"QUIT", {&FtpSession::cmd_quit, false}},
      {"NOOP", {&FtpSession::cmd_noop, false}},
      {"SYST", {&FtpSession::cmd_syst, false}},
      {"FEAT", {&FtpSession::cmd_feat, false}},
      {"OPTS", {&FtpSession::cmd_opts, false}},
      {"HELP", {&FtpSession::cmd_help, false}},
      {"AUTH", {&FtpSession::cmd_auth, false}},
      {"STAT", {&FtpSession::cmd_stat, true}},
      {"PWD", {&FtpSession::cmd_pwd, true}},
      {"XPWD", {&FtpSession::cmd_pwd, true}},
      {"CWD", {&FtpSession::cmd_cwd, true}},
      {"XCWD", {&FtpSession::cmd_cwd, true}},
      {"CDUP", {&FtpSession::cmd_cdup, true}},
      {"XCUP", {&FtpSession::cmd_cdup, true}},
      {"TYPE", {&FtpSession::cmd_type, true}},
      {"MODE", {&FtpSession::cmd_mode, true}},
      {"STRU", {&FtpSession::cmd_stru, true}},
      {"PASV", {&FtpSession::cmd_pasv, true}},
      {"EPSV", {&FtpSession::cmd_epsv, true}},
      {"PORT", {&FtpSession::cmd_port, true}},
      {"EPRT", {&FtpSession::cmd_eprt, true}},
      {"LIST", {&FtpSession::cmd_list, true}},
      {"NLST", {&FtpSession::cmd_nlst, true}},
      {"MLSD", {&FtpSession::cmd_mlsd, true}},
      {"MLST", {&FtpSession::cmd_mlst, true}},
      {"RETR", {&FtpSession::cmd_retr, true}},
      {"STOR", {&FtpSession::cmd_stor, true}},
      {"STOU", {&FtpSession::cmd_stou, true}},
      {"APPE", {&FtpSession::cmd_appe, true}},
      {"REST", {&FtpSession::cmd_rest, true}},
      {"SIZE", {&FtpSession::cmd_size, true}},
      {"MDTM", {&FtpSession::cmd_mdtm, true}},
      {"DELE", {&FtpSession::cmd_dele, true}},
      {"RNFR", {&FtpSession::cmd_rnfr, true}},
      {"RNTO", {&FtpSession::cmd_rnto, true}},
      {"MKD", {&FtpSession::cmd_mkd, true}},
      {"XMKD", {&FtpSession::cmd_mkd, true}},
      {"RMD", {&FtpSession::cmd_rmd, true}},
      {"XRMD", {&FtpSession::cmd_rmd, true}},
      {"ALLO", {&FtpSession::cmd_allo, true}},
      {"ABOR", {&FtpSession::cmd_abor, true}},
      {"REIN", {&FtpSession::cmd_rein, false}},
      {"ACCT", {&FtpSession::cmd_unimplemented, false}},
      {"SMNT", {&FtpSession::cmd_unimplemented, false}},
      {"SITE", {&FtpSession::cmd_unimplemented, false}},
      {"PBSZ", {&FtpSession::cmd_unimplemented, false}},
      {"PROT", {&FtpSession::cmd_unimplemented, false}},
      {"CCC", {&FtpSession::cmd_unimplemented, false}},
      {"ADAT", {&FtpSession::cmd_unimplemented, false}},
      {"LPRT", {&FtpSession::cmd_unimplemented, false}},
      {"LPSV", {&FtpSession::cmd_unimplemented, false}},
      {"LANG", {&FtpSession::cmd_unimplemented, false}},
      {"HOST", {&FtpSession::cmd_unimplemented, false}},
      {"MFMT", {&FtpSession::cmd_unimplemented, false}},
      {"AVBL", {&FtpSession::cmd_unimplemented, false}},
  };
  auto it = kCommands.find(verb);
  return it == kCommands.end() ? nullptr : &it->second;
}

FtpSession::FtpSession(const FtpConfig& config, const ConnectionInfo& info)
    : config_(config), info_(info), opened_(std::chrono::steady_clock::now()) {}

FtpSession::~FtpSession() {
  // The connection went away mid-upload: the temporary file must not stay behind.
  if (transfer_ && transfer_->upload) {
    ::unlinkat(transfer_->upload->dir.get(), transfer_->upload->temp.c_str(), 0);
  }
  spdlog::info("ftp event=session id={} peer={} user={} commands={} ms={} result={}", info_.id,
               info_.peer.to_string(), logfmt_value(user_.empty() ? "-" : user_), commands_,
               elapsed_ms(opened_), end_reason_);
}

void FtpSession::start(Buffer& out) {
  reply(out, 220, "netmodels FTP server ready.");
}

void FtpSession::end_session(const char* reason) {
  done_ = true;
  end_reason_ = reason;
  lines_.clear();
}

void FtpSession::receive(std::string_view bytes, Buffer& out) {
  if (done_) return;
  framer_.feed(bytes, lines_);
  if (wait_ == Wait::kTransfer) handle_urgent(out);
  process(out);
  if (!done_ && lines_.size() > kMaxQueuedLines) {
    reply(out, 421, "Too many commands queued; closing control connection.");
    end_session("flood");
  }
}

void FtpSession::timed_out(Buffer& out) {
  if (done_) return;
  reply(out, 421, "Timeout: closing control connection.");
  end_session("timeout");
}

std::optional<DataRequest> FtpSession::take_request() {
  if (requests_.empty()) return std::nullopt;
  DataRequest r = std::move(requests_.front());
  requests_.pop_front();
  return r;
}

void FtpSession::process(Buffer& out) {
  while (!done_ && wait_ == Wait::kNone && !lines_.empty()) {
    Line line = std::move(lines_.front());
    lines_.pop_front();
    execute(line, out);
    if (wait_ == Wait::kTransfer) handle_urgent(out);
  }
}

// ABOR and STAT cannot wait behind the transfer they are about: they are answered at once,
// every other command keeps its place in the queue.
void FtpSession::handle_urgent(Buffer& out) {
  for (auto it = lines_.begin(); it != lines_.end() && !done_;) {
    if (it->too_long) {
      ++it;
      continue;
    }
    auto cmd = parse_command(it->text);
    if (cmd.verb == "ABOR" || cmd.verb == "STAT") {
      Line line = std::move(*it);
      it = lines_.erase(it);
      execute(line, out);
    } else {
      ++it;
    }
  }
}

void FtpSession::execute(const Line& line, Buffer& out) {
  ++commands_;
  if (line.too_long) {
    reply(out, 500, "Command line too long.");
    return;
  }
  Command cmd = parse_command(line.text);
  const CommandSpec* spec = find_command(cmd.verb);
  if (spec == nullptr) {
    rename_from_.reset();
    reply(out, 500, cmd.verb.empty() ? "Empty command." : "Unknown command.");
    return;
  }
  if (spec->needs_login && !logged_in_) {
    reply(out, 530, "Please login with USER and PASS.");
    return;
  }
  // RNTO must come right after RNFR; anything in between cancels the rename (RFC 959).
  bool keeps_rename = cmd.verb == "RNFR" || cmd.verb == "RNTO";
  if (!keeps_rename) rename_from_.reset();
  (this->*(spec->handler))(cmd.arg, out);
}

// ---------------------------------------------------------------------------------------------
// Helpers

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

bool FtpSession::data_ready(Buffer& out) {
  if (passive_open_ || active_target_) return true;
  reply(out, 425, "Use PORT, EPRT, PASV or EPSV first.");
  return false;
}

void FtpSession::reply_errno(Buffer& out, int err) {
  switch (err) {
    case ENOENT:
      reply(out, 550, "No such file or directory.");
      break;
    case EACCES:
    case EPERM:
    case EXDEV:
    case EROFS:
      reply(out, 550, "Permission denied.");
      break;
    case EEXIST:
      reply(out, 550, "File exists.");
      break;
    case ENOTEMPTY:
      reply(out, 550, "Directory not empty.");
      break;
    case EISDIR:
      reply(out, 550, "Is a directory.");
      break;
    case ENOTDIR:
      reply(out, 550, "Not a directory.");
      break;
    case ENAMETOOLONG:
      reply(out, 550, "File name too long.");
      break;
    case ENOSPC:
    case EDQUOT:
      reply(out, 452, "Insufficient storage space.");
      break;
    default:
      reply(out, 550, std::string("Failed: ") + std::strerror(err) + ".");
      break;
  }
}

void FtpSession::start_transfer(TransferRequest request, Transfer transfer,
                                std::string_view message, Buffer& out) {
  request.ascii = ascii_ && request.memory.empty();
  request.active_target = active_target_;
  active_target_.reset();
  passive_open_ = false;
  rest_ = 0;
  reply(out, 150, message);
  transfer.started = std::chrono::steady_clock::now();
  transfer_ = std::move(transfer);
  requests_.emplace_back(std::move(request));
  wait_ = Wait::kTransfer;
}

void FtpSession::log_transfer(const Transfer& transfer, const TransferResult& result, int error) {
  std::string err = error != 0 ? std::string(" error=") + logfmt_value(std::strerror(error)) : "";
  spdlog::info("ftp event=transfer user={} peer={} cmd={} path={} bytes={} ms={} result={}{}",
               logfmt_value(user_), info_.peer.to_string(), transfer.verb, logfmt_value(transfer.path),
               result.bytes, elapsed_ms(transfer.started), status_name(result.status), err);
  if (config_.xferlog)
    config_.xferlog->record(transfer.verb, transfer.path, result, transfer.started, info_.peer,
                            ascii_, user_);
}

void FtpSession::reset_login() {
  pending_user_.reset();
  user_.clear();
  logged_in_ = false;
  rights_ = FtpRights{false, false, false, false, false};
  jail_ = PathJail();
  cwd_ = "/";
  ascii_ = false;
  rest_ = 0;
  rename_from_.reset();
  active_target_.reset();
  passive_open_ = false;
  epsv_all_ = false;
}

// ---------------------------------------------------------------------------------------------
// Results from the model

void FtpSession::passive_opened(const PassiveResult& result, Buffer& out) {
  if (wait_ != Wait::kPassive) return;
  wait_ = Wait::kNone;
  if (!result.ok) {
    passive_open_ = false;
    reply(out, 425, std::string("Cannot open passive connection: ") + std::strerror(result.error));
  } else {
    passive_open_ = true;
    active_target_.reset();
    uint16_t port = result.bound.port();
    if (passive_extended_) {
      reply(out, 229, "Entering Extended Passive Mode (|||" + std::to_string(port) + "|)");
    } else {
      std::string host =
          config_.pasv_address ? config_.pasv_address->host() : ipv4_host(result.bound);
      if (host.empty()) host = ipv4_host(info_.local);
      std::replace(host.begin(), host.end(), '.', ',');
      reply(out, 227,
            "Entering Passive Mode (" + host + "," + std::to_string(port >> 8) + "," +
                std::to_string(port & 0xff) + ")");
    }
  }
  process(out);
}

void FtpSession::transfer_finished(const TransferResult& result, Buffer& out) {
  if (wait_ != Wait::kTransfer || !transfer_) return;
  Transfer transfer = std::move(*transfer_);
  transfer_.reset();
  wait_ = Wait::kNone;
  auto status = result.status;
  int error = result.error;
  if (transfer.upload) {
    auto& up = *transfer.upload;
    if (status == TransferResult::Status::kOk) {
      int rc = up.no_replace
                   ? ::renameat2(up.dir.get(), up.temp.c_str(), up.dir.get(), up.leaf.c_str(),
                                 RENAME_NOREPLACE)
                   : ::renameat(up.dir.get(), up.temp.c_str(), up.dir.get(), up.leaf.c_str());
      if (rc != 0) {
        error = errno;
        status = TransferResult::Status::kFileError;
      }
    }
    if (status != TransferResult::Status::kOk) ::unlinkat(up.dir.get(), up.temp.c_str(), 0);
  }
  TransferResult logged = result;
  logged.status = status;
  log_transfer(transfer, logged, error);
  switch (status) {
    case TransferResult::Status::kOk:
      reply(out, 226, "Transfer complete (" + std::to_string(result.bytes) + " bytes).");
      break;
    case TransferResult::Status::kAborted:
      reply(out, 426, "Connection closed; transfer aborted.");
      break;
    case TransferResult::Status::kNoConnection:
      reply(out, 425, "Cannot open data connection.");
      break;
    case TransferResult::Status::kConnectionLost:
      reply(out, 426, "Data connection lost; transfer aborted.");
      break;
    case TransferResult::Status::kTimeout:
      reply(out, 426, "Data connection timed out; transfer aborted.");
      break;
    case TransferResult::Status::kFileError:
      if (error == ENOSPC || error == EDQUOT) {
        reply(out, 452, "Insufficient storage space; transfer aborted.");
      } else {
        reply(out, 451, std::string("Local error: ") + std::strerror(error) + ".");
      }
      break;
  }
  if (abort_pending_) {
    abort_pending_ = false;
    reply(out, 226, "ABOR command successful.");
  }
  process(out);
}

void FtpSession::delay_elapsed(Buffer& out) {
  if (wait_ != Wait::kDelay) return;
  wait_ = Wait::kNone;
  reply_login_failed(out);
  process(out);
}

// ---------------------------------------------------------------------------------------------
// Login and session

void FtpSession::cmd_user(const std::string& arg, Buffer& out) {
  if (logged_in_) {
    reply(out, 530, "Already logged in; use REIN to change user.");
    return;
  }
  if (arg.empty()) {
    reply(out, 501, "USER needs a name.");
    return;
  }
  pending_user_ = arg;
  // The same answer for every name: whether a user exists is nobody's business before PASS.
  if (is_anonymous_name(arg)) {
    reply(out, 331, "Anonymous login okay, send your e-mail address as password.");
  } else {
    reply(out, 331, "Password required for " + arg + ".");
  }
}

void FtpSession::cmd_pass(const std::string& arg, Buffer& out) {
  if (logged_in_) {
    reply(out, 230, "Already logged in.");
    return;
  }
  if (!pending_user_) {
    reply(out, 503, "Login with USER first.");
    return;
  }
  std::string name = std::move(*pending_user_);
  pending_user_.reset();
  bool ok = false;
  std::filesystem::path root;
  FtpRights rights{false, false, false, false, false};
  if (is_anonymous_name(name)) {
    ok = config_.anonymous;
    root = config_.root;
    rights.read = true;
    rights.write = config_.anonymous_write;
    name = "anonymous";
  } else if (const FtpUser* user = find_user(config_, name)) {
    ok = verify_password(*user, arg);
    root = user->root.empty() ? config_.root : user->root;
    rights = user->rights;
  }
  if (ok) {
    PathJail jail;
    if (int err = PathJail::open_root(root, &jail)) {
      spdlog::warn("ftp event=login user={} peer={} result=no-root error={}", logfmt_value(name),
                   info_.peer.to_string(), logfmt_value(std::strerror(err)));
      reply(out, 530, "Home folder unavailable.");
      return;
    }
    jail_ = std::move(jail);
    user_ = name;
    rights_ = rights;
    logged_in_ = true;
    cwd_ = "/";
    spdlog::info("ftp event=login user={} peer={} result=ok", logfmt_value(name), info_.peer.to_string());
    reply(out, 230, "Login successful.");
    return;
  }
  ++failures_;
  spdlog::info("ftp event=login user={} peer={} result=fail failures={}", logfmt_value(name),
               info_.peer.to_string(), failures_);
  if (config_.login_failure_delay_ms > 0) {
    requests_.emplace_back(DelayRequest{std::chrono::milliseconds(config_.login_failure_delay_ms)});
    wait_ = Wait::kDelay;
    return;
  }
  reply_login_failed(out);
}

void FtpSession::reply_login_failed(Buffer& out) {
  if (failures_ >= config_.max_login_failures) {
    reply(out, 421, "Too many failed logins; closing control connection.");
    end_session("login-failures");
    return;
  }
  reply(out, 530, "Login incorrect.");
}

void FtpSession::cmd_quit(const std::string&, Buffer& out) {
  reply(out, 221, "Goodbye.");
  end_session("quit");
}

void FtpSession::cmd_rein(const std::string&, Buffer& out) {
  reset_login();
  requests_.emplace_back(ClosePassiveRequest{});
  reply(out, 220, "Service ready for new user.");
}

void FtpSession::cmd_noop(const std::string&, Buffer& out) {
  reply(out, 200, "NOOP ok.");
}

void FtpSession::cmd_syst(const std::string&, Buffer& out) {
  reply(out, 215, "UNIX Type: L8");
}

void FtpSession::cmd_feat(const std::string&, Buffer& out) {
  std::vector<std::string> lines(std::begin(kFeatures), std::end(kFeatures));
  reply_lines(out, 211, "Features:", lines, "End");
}

void FtpSession::cmd_opts(const std::string& arg, Buffer& out) {
  auto u = upper(arg);
  if (u == "UTF8 ON" || u == "UTF8" || u == "UTF-8 ON") {
    reply(out, 200, "Always in UTF8 mode.");
  } else if (u.rfind("MLST", 0) == 0) {
    // Every fact is always sent; say so, as RFC 3659 lets a server do.
    reply(out, 200, "MLST OPTS type;size;modify;perm;unique;");
  } else if (u.rfind("UTF8", 0) == 0) {
    reply(out, 504, "Only UTF8 ON is supported.");
  } else {
    reply(out, 501, "Option not understood.");
  }
}

void FtpSession::cmd_help(const std::string&, Buffer& out) {
  std::vector<std::string> lines = {
      "ABOR ALLO APPE CDUP CWD  DELE EPRT EPSV FEAT HELP LIST MDTM MKD",
      "MLSD MLST MODE NLST NOOP OPTS PASS PASV PORT PWD  QUIT REIN REST",
      "RETR RMD  RNFR RNTO SIZE STAT STOR STOU STRU SYST TYPE USER XCUP", "XCWD XMKD XPWD XRMD"};
  reply_lines(out, 214, "The following commands are recognized.", lines, "Help OK.");
}

void FtpSession::cmd_auth(const std::string&, Buffer& out) {
  reply(out, 502, "TLS is not supported.");
}

void FtpSession::cmd_unimplemented(const std::string&, Buffer& out) {
  reply(out, 502, "Command not implemented.");
}

// ---------------------------------------------------------------------------------------------
// Folders and parameters

void FtpSession::cmd_pwd(const std::string&, Buffer& out) {
  reply(out, 257, quote_path(cwd_) + " is the current directory.");
}

void FtpSession::cmd_cwd(const std::string& arg, Buffer& out) {
  std::string vpath;
  if (!resolve(arg.empty() ? "/" : arg, &vpath, out)) return;
  Fd dir;
  if (int err = jail_.open(vpath, O_PATH | O_DIRECTORY, &dir)) {
    reply_errno(out, err == ENOTDIR ? ENOTDIR : err);
    return;
  }
  cwd_ = vpath;
  reply(out, 250, "Directory successfully changed.");
}

void FtpSession::cmd_cdup(const std::string&, Buffer& out) {
  cmd_cwd("..", out);
}

void FtpSession::cmd_type(const std::string& arg, Buffer& out) {
  auto u = upper(arg);
  if (u == "I" || u == "L 8" || u == "L8") {
    ascii_ = false;
    reply(out, 200, "Switching to Binary mode.");
  } else if (u == "A" || u == "A N") {
    ascii_ = true;
    reply(out, 200, "Switching to ASCII mode.");
  } else if (u.empty()) {
    reply(out, 501, "TYPE needs an argument.");
  } else if (u[0] == 'A' || u[0] == 'E' || u[0] == 'L') {
    reply(out, 504, "Type not supported.");
  } else {
    reply(out, 501, "Unknown type.");
  }
}

void FtpSession::cmd_mode(const std::string& arg, Buffer& out) {
  auto u = upper(arg);
  if (u == "S") {
    reply(out, 200, "Mode set to S.");
  } else if (u == "B" || u == "C" || u == "Z") {
    reply(out, 504, "Only stream mode is supported.");
  } else {
    reply(out, 501, "Unknown mode.");
  }
}

void FtpSession::cmd_stru(const std::string& arg, Buffer& out) {
  auto u = upper(arg);
  if (u == "F") {
    reply(out, 200, "Structure set to F.");
  } else if (u == "R" || u == "P") {
    reply(out, 504, "Only file structure is supported.");
  } else {
    reply(out, 501, "Unknown structure.");
  }
}

void FtpSession::cmd_allo(const std::string&, Buffer& out) {
  reply(out, 202, "No storage allocation necessary.");
}

void FtpSession::cmd_rest(const std::string& arg, Buffer& out) {
  uint64_t offset = 0;
  if (!parse_u64(arg, &offset)) {
    reply(out, 501, "REST needs a byte offset.");
    return;
  }
  rest_ = offset;
  reply(out, 350, "Restarting at " + std::to_string(offset) + ". Send STOR or RETR.");
}

// ---------------------------------------------------------------------------------------------
// Data connection set-up

void FtpSession::cmd_pasv(const std::string&, Buffer& out) {
  if (epsv_all_) {
    reply(out, 501, "EPSV ALL is in effect: use EPSV.");
    return;
  }
  if (is_ipv6_only(info_.local)) {
    reply(out, 522, "PASV is IPv4 only; use EPSV (2).");
    return;
  }
  passive_extended_ = false;
  Address bind = info_.local;
  bind.set_port(0);
  requests_.emplace_back(PassiveRequest{bind, config_.pasv_port_min, config_.pasv_port_max});
  wait_ = Wait::kPassive;
}

void FtpSession::cmd_epsv(const std::string& arg, Buffer& out) {
  auto u = upper(arg);
  bool v6 = is_ipv6_only(info_.local);
  if (u == "ALL") {
    epsv_all_ = true;
    reply(out, 200, "EPSV ALL ok.");
    return;
  }
  if (!u.empty() && u != "1" && u != "2") {
    reply(out, 501, "EPSV takes 1, 2 or ALL.");
    return;
  }
  if ((u == "1" && v6) || (u == "2" && !v6)) {
    reply(
        out, 522,
        v6 ? "Network protocol not supported, use (2)" : "Network protocol not supported, use (1)");
    return;
  }
  passive_extended_ = true;
  Address bind = info_.local;
  bind.set_port(0);
  requests_.emplace_back(PassiveRequest{bind, config_.pasv_port_min, config_.pasv_port_max});
  wait_ = Wait::kPassive;
}

// RFC 2577: a data connection goes only to the control peer's own host and never to a
// privileged port, so the server cannot be used to reach (bounce to) a third machine.
void FtpSession::use_active(const Address& target, Buffer& out) {
  if (!target.same_host(info_.peer)) {
    reply(out, 504, "Data connections go only to the control connection's host.");
    return;
  }
  if (target.port() < 1024) {
    reply(out, 504, "Data connections to ports below 1024 are refused.");
    return;
  }
  active_target_ = target;
  passive_open_ = false;
  requests_.emplace_back(ClosePassiveRequest{});
  reply(out, 200, "Active data connection set. Consider using PASV.");
}

void FtpSession::cmd_port(const std::string& arg, Buffer& out) {
  if (epsv_all_) {
    reply(out, 501, "EPSV ALL is in effect: use EPSV.");
    return;
  }
  unsigned v[6] = {};
  size_t i = 0;
  std::string_view rest = arg;
  for (; i < 6; ++i) {
    auto comma = rest.find(',');
    auto field = rest.substr(0, comma);
    while (!field.empty() && field.front() == ' ') field.remove_prefix(1);
    while (!field.empty() && field.back() == ' ') field.remove_suffix(1);
    auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), v[i]);
    if (field.empty() || ec != std::errc() || end != field.data() + field.size() || v[i] > 255) {
      break;
    }
    if (comma == std::string_view::npos) {
      ++i;
      break;
    }
    rest.remove_prefix(comma + 1);
  }
  if (i != 6 || rest.find(',') != std::string_view::npos) {
    reply(out, 501, "PORT wants h1,h2,h3,h4,p1,p2.");
    return;
  }
  std::string host = std::to_string(v[0]) + "." + std::to_string(v[1]) + "." +
                     std::to_string(v[2]) + "." + std::to_string(v[3]);
  auto target = Address::from(host, static_cast<uint16_t>(v[4] * 256 + v[5]));
  if (!target) {
    reply(out, 501, "PORT wants h1,h2,h3,h4,p1,p2.");
    return;
  }
  use_active(*target, out);
}

void FtpSession::cmd_eprt(const std::string& arg, Buffer& out) {
  if (epsv_all_) {
    reply(out, 501, "EPSV ALL is in effect: use EPSV.");
    return;
  }
  // |proto|host|port|, where '|' is whatever character comes first.
  if (arg.size() < 7) {
    reply(out, 501, "EPRT wants |proto|host|port|.");
    return;
  }
  char d = arg[0];
  std::vector<std::string_view> fields;
  std::string_view rest = std::string_view(arg).substr(1);
  while (!rest.empty()) {
    auto pos = rest.find(d);
    if (pos == std::string_view::npos) break;
    fields.push_back(rest.substr(0, pos));
    rest.remove_prefix(pos + 1);
  }
  if (fields.size() != 3 || !rest.empty()) {
    reply(out, 501, "EPRT wants |proto|host|port|.");
    return;
  }
  if (fields[0] != "1" && fields[0] != "2") {
    reply(out, 522, "Network protocol not supported, use (1,2)");
    return;
  }
  uint64_t port = 0;
  auto target = Address::from(fields[1], 0);
  if (!target || !parse_u64(fields[2], &port) || port == 0 || port > 65535 ||
      (fields[0] == "1") != target->is_v4()) {
    reply(out, 501, "EPRT wants |proto|host|port|.");
    return;
  }
  target->set_port(static_cast<uint16_t>(port));
  use_active(*target, out);
}

void FtpSession::cmd_abor(const std::string&, Buffer& out) {
  if (transfer_) {
    if (!abort_pending_) {
      abort_pending_ = true;
      requests_.emplace_back(AbortRequest{});
    }
    return;  // 426 and 226 follow when the model reports the transfer stopped
  }
  if (passive_open_) {
    passive_open_ = false;
    requests_.emplace_back(ClosePassiveRequest{});
  }
  reply(out, 225, "No transfer to abort.");
}

}  // namespace nm::ftp
