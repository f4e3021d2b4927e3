#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <optional>
#include <random>
#include <string>

#include "services/ftp/command.hpp"
#include "services/ftp/ftp_config.hpp"
#include "services/ftp/path_jail.hpp"
#include "session/session.hpp"

namespace nm::ftp {

// One FTP control connection as a sans-IO state machine (see services/session.hpp). It reads
// and writes files only through its PathJail; sockets belong to the model. `config` must outlive
// the session (the service owns it).
class FtpSession final : public Session {
 public:
  FtpSession(const FtpConfig& config, const ConnectionInfo& info);
  ~FtpSession() override;

  void start(Buffer& out) override;
  void receive(std::string_view bytes, Buffer& out) override;
  void timed_out(Buffer& out) override;
  bool done() const override { return done_; }

  std::optional<DataRequest> take_request() override;
  void passive_opened(const PassiveResult& result, Buffer& out) override;
  void transfer_finished(const TransferResult& result, Buffer& out) override;
  void delay_elapsed(Buffer& out) override;

  // Commands queued while a transfer runs (or a reply waits on the model) past this many close
  // the connection: a peer cannot make the session buffer without bound.
  static constexpr size_t kMaxQueuedLines = 128;

 private:
  using Handler = void (FtpSession::*)(const std::string& arg, Buffer& out);
  struct CommandSpec {
    Handler handler;
    bool needs_login;
  };
  static const CommandSpec* find_command(std::string_view verb);

  // What the session is waiting for before it can read the next queued line.
  enum class Wait { kNone, kPassive, kDelay, kTransfer };

  // An upload written to a hidden temporary name, renamed over `leaf` only when complete.
  struct Upload {
    Fd dir;
    std::string temp;
    std::string leaf;
    bool no_replace = false;  // STOU: never clobber a file that appeared meanwhile
  };
  struct Transfer {
    std::string verb;
    std::string path;
    std::optional<Upload> upload;
    std::chrono::steady_clock::time_point started;
  };

  void process(Buffer& out);
  void handle_urgent(Buffer& out);
  void execute(const Line& line, Buffer& out);
  void end_session(const char* reason);

  bool resolve(const std::string& arg, std::string* vpath, Buffer& out);
  bool allowed(bool right, Buffer& out);
  bool data_ready(Buffer& out);
  void reply_errno(Buffer& out, int err);
  void start_transfer(TransferRequest request, Transfer transfer, std::string_view message,
                      Buffer& out);
  void start_listing(const std::string& arg, int kind, Buffer& out);
  void start_upload(const std::string& arg, int kind, Buffer& out);
  int make_temp(const Fd& dir, std::string* name, Fd* file);
  void log_transfer(const Transfer& transfer, const TransferResult& result, int error);
  void reset_login();
  void reply_login_failed(Buffer& out);

  void cmd_user(const std::string& arg, Buffer& out);
  void cmd_pass(const std::string& arg, Buffer& out);
  void cmd_quit(const std::string& arg, Buffer& out);
  void cmd_noop(const std::string& arg, Buffer& out);
  void cmd_syst(const std::string& arg, Buffer& out);
  void cmd_feat(const std::string& arg, Buffer& out);
  void cmd_opts(const std::string& arg, Buffer& out);
  void cmd_help(const std::string& arg, Buffer& out);
  void cmd_stat(const std::string& arg, Buffer& out);
  void cmd_pwd(const std::string& arg, Buffer& out);
  void cmd_cwd(const std::string& arg, Buffer& out);
  void cmd_cdup(const std::string& arg, Buffer& out);
  void cmd_type(const std::string& arg, Buffer& out);
  void cmd_mode(const std::string& arg, Buffer& out);
  void cmd_stru(const std::string& arg, Buffer& out);
  void cmd_pasv(const std::string& arg, Buffer& out);
  void cmd_epsv(const std::string& arg, Buffer& out);
  void cmd_port(const std::string& arg, Buffer& out);
  void cmd_eprt(const std::string& arg, Buffer& out);
  void cmd_list(const std::string& arg, Buffer& out);
  void cmd_nlst(const std::string& arg, Buffer& out);
  void cmd_mlsd(const std::string& arg, Buffer& out);
  void cmd_mlst(const std::string& arg, Buffer& out);
  void cmd_retr(const std::string& arg, Buffer& out);
  void cmd_stor(const std::string& arg, Buffer& out);
  void cmd_stou(const std::string& arg, Buffer& out);
  void cmd_appe(const std::string& arg, Buffer& out);
  void cmd_rest(const std::string& arg, Buffer& out);
  void cmd_size(const std::string& arg, Buffer& out);
  void cmd_mdtm(const std::string& arg, Buffer& out);
  void cmd_dele(const std::string& arg, Buffer& out);
  void cmd_rnfr(const std::string& arg, Buffer& out);
  void cmd_rnto(const std::string& arg, Buffer& out);
  void cmd_mkd(const std::string& arg, Buffer& out);
  void cmd_rmd(const std::string& arg, Buffer& out);
  void cmd_allo(const std::string& arg, Buffer& out);
  void cmd_abor(const std::string& arg, Buffer& out);
  void cmd_rein(const std::string& arg, Buffer& out);
  void cmd_auth(const std::string& arg, Buffer& out);
  void cmd_unimplemented(const std::string& arg, Buffer& out);

  void use_active(const Address& target, Buffer& out);

  const FtpConfig& config_;
  ConnectionInfo info_;
  std::chrono::steady_clock::time_point opened_;
  LineFramer framer_;
  // Lists, not deques: an empty libstdc++ deque still allocates ~600 bytes, and an idle session
  // should cost little.
  std::list<Line> lines_;
  std::list<DataRequest> requests_;
  Wait wait_ = Wait::kNone;
  bool done_ = false;
  const char* end_reason_ = "closed";
  uint64_t commands_ = 0;

  // Login.
  std::optional<std::string> pending_user_;
  std::string user_;
  bool logged_in_ = false;
  FtpRights rights_{false, false, false, false, false};
  int failures_ = 0;
  PathJail jail_;
  std::string cwd_ = "/";

  // Transfer parameters.
  bool ascii_ = false;
  uint64_t rest_ = 0;
  std::optional<std::string> rename_from_;
  std::optional<Address> active_target_;
  bool passive_open_ = false;
  bool passive_extended_ = false;  // the pending PassiveRequest answers EPSV (229), not PASV
  bool epsv_all_ = false;
  bool abort_pending_ = false;
  std::optional<Transfer> transfer_;
};

}  // namespace nm::ftp
