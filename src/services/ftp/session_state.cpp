// The FTP session's state machine: what it waits for, what it does with lines meanwhile, and how
// the model's answers move it on. The command families live in login_commands.cpp,
// data_commands.cpp, file_commands.cpp, attribute_commands.cpp (MFMT, MFF), site_commands.cpp,
// hash_commands.cpp (HASH, RANG) and info_commands.cpp.
//
// Theory of operation
// -------------------
// The control connection is a queue of lines (LineFramer cuts them; `lines_` holds them) and one
// wait at a time (`wait_`). While the session waits for nothing (kNone) it runs queued lines in
// order, each one to its reply. A command that needs the model appends a DataRequest to
// `requests_` (the model takes them with take_request() after every call into the session) and,
// when its reply depends on the answer, enters a wait:
//
//   kNone      ready: the next queued line runs now.
//   kPassive   PASV / EPSV asked for a listener; passive_opened() sends 227 / 229 (or 425).
//   kTransfer  a data transfer runs (the 150 reply is out); transfer_finished() sends 226 / 4xx.
//   kDelay     a login failed; delay_elapsed() sends 530 (or 421 after too many failures).
//   kWork      a job that may block runs off the loop (a crypt(3) password check, reading and
//              formatting a folder, digesting a file for HASH); work_done() goes on with the
//              command that asked for it.
//
// Every wait ends in exactly one call from the model, which replies, returns to kNone (or enters
// the next wait: a failed hashed login goes kWork -> kDelay, a folder listing kWork -> kTransfer)
// and runs what queued up meanwhile. So replies always leave in the order the commands came, and
// at most one wait, hence at most one transfer or one job, is outstanding per session.
//
// Jumping the queue: during kTransfer only, ABOR and STAT without an argument run as soon as they
// arrive, ahead of lines queued before them, because they are about the transfer itself: ABOR
// stops it (its 426 and 226 follow from transfer_finished()), STAT reports on it. STAT with a
// path is a listing and waits its turn like any other command. No other wait lets a line jump:
// a login check or a delay must finish before anything after it is read.
//
// Flood protection: a peer that sends while the session waits makes `lines_` grow; past
// kMaxQueuedLines the session answers 421 and ends. Lines that overflow LineFramer::kMaxLine
// arrive as a too_long marker and get 500. Once done() is true nothing more is read or answered.
//
// Jobs (WorkRequest) may run on another thread, even after the session is gone: a job captures
// copies and shared state, never `this`; the continuation that uses `this` stays here in
// `after_work_` and runs in work_done() on the session's thread.

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <unordered_map>

#include "net/logfmt.hpp"
#include "services/ftp/reply.hpp"
#include "services/ftp/session.hpp"

namespace nm::ftp {

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
      {"SITE", {&FtpSession::cmd_site, true}},
      {"PBSZ", {&FtpSession::cmd_pbsz, false}},
      {"PROT", {&FtpSession::cmd_prot, false}},
      {"CCC", {&FtpSession::cmd_ccc, false}},
      {"ADAT", {&FtpSession::cmd_unimplemented, false}},
      {"LPRT", {&FtpSession::cmd_unimplemented, false}},
      {"LPSV", {&FtpSession::cmd_unimplemented, false}},
      {"LANG", {&FtpSession::cmd_unimplemented, false}},
      {"HOST", {&FtpSession::cmd_unimplemented, false}},
      {"MFMT", {&FtpSession::cmd_mfmt, true}},
      {"MFF", {&FtpSession::cmd_mff, true}},
      {"HASH", {&FtpSession::cmd_hash, true}},
      {"RANG", {&FtpSession::cmd_rang, true}},
      {"AVBL", {&FtpSession::cmd_unimplemented, false}},
  };
  auto it = kCommands.find(verb);
  return it == kCommands.end() ? nullptr : &it->second;
}

int64_t FtpSession::elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               since)
      .count();
}

FtpSession::FtpSession(const FtpConfig& config, const ConnectionInfo& info)
    : config_(config), info_(info), opened_(std::chrono::steady_clock::now()) {
  // Implicit FTPS: TLS from the first byte, and data protected unless the client says PROT C.
  if (info_.implicit_tls) {
    tls_control_ = true;
    pbsz_ = true;
    prot_private_ = true;
  }
}

FtpSession::~FtpSession() {
  set_passive_open(false);
  // The connection went away mid-upload: the temporary file must not stay behind.
  if (transfer_ && transfer_->upload) {
    ::unlinkat(transfer_->upload->dir.get(), transfer_->upload->temp.c_str(), 0);
  }
  // A balancer's health check (PROXY LOCAL, or a probe that says nothing or only QUIT before
  // USER) ends at debug level: a farm checks every few seconds, and those lines would bury the
  // clients'.
  auto level = info_.health_check || only_quit_ ? spdlog::level::debug : spdlog::level::info;
  std::string via;
  if (info_.transport_peer.len() != 0 && !(info_.transport_peer.same_host(info_.peer) &&
                                           info_.transport_peer.port() == info_.peer.port())) {
    via = " via=" + info_.transport_peer.to_string();
  }
  spdlog::log(level, "event=session id={} peer={} user={} commands={} ms={} result={}{}", info_.id,
              info_.peer.to_string(), logfmt_value(user_.empty() ? "-" : user_), commands_,
              elapsed_ms(opened_), end_reason_, via);
}

void FtpSession::start(Buffer& out) {
  reply(out, 220, "netmodels FTP server ready.");
}

void FtpSession::end_session(const char* reason) {
  done_ = true;
  end_reason_ = reason;
  lines_.clear();
  // Nothing follows the last words: a listener or a transfer asked for before them is dropped.
  requests_.clear();
}

void FtpSession::receive(std::string_view bytes, Buffer& out) {
  if (done_) return;
  framer_.feed(bytes, lines_);
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

void FtpSession::shutting_down(Buffer& out) {
  if (done_) return;
  reply(out, 421, kShuttingDownText);
  end_session("shutdown");
}

std::optional<DataRequest> FtpSession::take_request() {
  if (requests_.empty()) return std::nullopt;
  DataRequest r = std::move(requests_.front());
  requests_.pop_front();
  return r;
}

// Runs queued lines until one makes the session wait; during a transfer, the urgent ones first.
void FtpSession::process(Buffer& out) {
  for (;;) {
    if (wait_ == Wait::kTransfer) handle_urgent(out);
    if (done_ || wait_ != Wait::kNone || lines_.empty()) return;
    Line line = std::move(lines_.front());
    lines_.pop_front();
    execute(line, out);
  }
}

// ABOR and a bare STAT cannot wait behind the transfer they are about: they are answered at once,
// every other command keeps its place in the queue.
void FtpSession::handle_urgent(Buffer& out) {
  for (auto it = lines_.begin(); it != lines_.end() && !done_;) {
    if (it->too_long) {
      ++it;
      continue;
    }
    auto cmd = parse_command(it->text);
    if (cmd.verb == "ABOR" || (cmd.verb == "STAT" && cmd.arg.empty())) {
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
    only_quit_ = false;
    reply(out, 500, "Command line too long.");
    return;
  }
  Command cmd = parse_command(line.text);
  if (cmd.verb != "QUIT") only_quit_ = false;
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

void FtpSession::start_work(std::function<void()> job, std::function<void(Buffer&)> then) {
  after_work_ = std::make_unique<std::function<void(Buffer&)>>(std::move(then));
  requests_.emplace_back(WorkRequest{std::move(job)});
  wait_ = Wait::kWork;
}

// ---------------------------------------------------------------------------------------------
// Results from the model

void FtpSession::passive_opened(const PassiveResult& result, Buffer& out) {
  if (wait_ != Wait::kPassive) return;
  wait_ = Wait::kNone;
  if (done_) return;  // the last words are out: nothing follows them
  reply_passive(result, out);
  process(out);
}

void FtpSession::transfer_finished(const TransferResult& result, Buffer& out) {
  if (wait_ != Wait::kTransfer || !transfer_) return;
  wait_ = Wait::kNone;
  if (done_) {
    // The session ended while the transfer ran (a flood's 421): the transfer is logged and its
    // upload removed or committed, but the peer has had the last words already.
    Buffer unsent;
    finish_transfer(result, unsent);
    abort_pending_ = false;
    extra_aborts_ = 0;
    return;
  }
  finish_transfer(result, out);
  if (abort_pending_) {
    abort_pending_ = false;
    reply(out, 226, "ABOR command successful.");
  }
  for (; extra_aborts_ > 0; --extra_aborts_) reply(out, 225, "No transfer to abort.");
  process(out);
}

void FtpSession::delay_elapsed(Buffer& out) {
  if (wait_ != Wait::kDelay) return;
  wait_ = Wait::kNone;
  if (done_) return;  // timed out during the delay: the 421 was the last word
  reply_login_failed(out);
  process(out);
}

void FtpSession::work_done(Buffer& out) {
  if (wait_ != Wait::kWork) return;
  wait_ = Wait::kNone;
  auto then = std::move(after_work_);
  // A session that timed out meanwhile has said its last words; the answer is dropped.
  if (done_ || !then || !*then) return;
  (*then)(out);
  process(out);
}

void FtpSession::cmd_abor(const std::string&, Buffer& out) {
  if (transfer_) {
    if (!abort_pending_) {
      abort_pending_ = true;
      requests_.emplace_back(AbortRequest{});
    } else {
      ++extra_aborts_;  // one stop is enough; this ABOR is answered after the first one's 226
    }
    return;  // 426 and 226 follow when the model reports the transfer stopped
  }
  if (passive_open_) {
    set_passive_open(false);
    requests_.emplace_back(ClosePassiveRequest{});
  }
  reply(out, 225, "No transfer to abort.");
}

}  // namespace nm::ftp
