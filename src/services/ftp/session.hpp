#pragma once

#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>

#include "services/ftp/command.hpp"
#include "services/ftp/file_hash.hpp"
#include "services/ftp/ftp_config.hpp"
#include "services/ftp/listing.hpp"
#include "services/ftp/parameters.hpp"
#include "services/ftp/path_jail.hpp"
#include "services/ftp/upload_charge.hpp"
#include "session/metrics.hpp"
#include "session/session.hpp"

namespace nm::ftp {

// The 421 text of a server that stops: to a session (shutting_down) and to a connection still
// queued unserved (Service::shutdown_notice).
inline constexpr std::string_view kShuttingDownText =
    "Server shutting down; closing control connection.";

// One FTP control connection as a sans-IO state machine (see session/session.hpp and the theory
// of operation in session_state.cpp). It reads and writes files only through its PathJail;
// sockets belong to the model. Owned by the model's connection and called only from that
// connection's thread; `config` and `info` must outlive the session (the service owns the
// one, the host the other).
class FtpSession final : public Session {
 public:
  FtpSession(const FtpConfig& config, const ConnectionInfo& info);
  ~FtpSession() override;

  void start(Buffer& out) override;
  void receive(std::string_view bytes, Buffer& out) override;
  void timed_out(Buffer& out) override;
  void shutting_down(Buffer& out) override;
  bool done() const override { return done_; }
  bool partial_input() const override { return framer_.partial(); }
  bool logged_in() const override { return logged_in_; }

  std::optional<DataRequest> take_request() override;
  void passive_opened(const PassiveResult& result, Buffer& out) override;
  void transfer_finished(const TransferResult& result, Buffer& out) override;
  void delay_elapsed(Buffer& out) override;
  void work_done(Buffer& out) override;

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
  static int64_t elapsed_ms(std::chrono::steady_clock::time_point since);

  // What the session is waiting for before it can read the next queued line.
  enum class Wait { kNone, kPassive, kDelay, kTransfer, kWork };

  // An upload written to a hidden temporary name, renamed over `leaf` only when complete.
  struct Upload {
    Fd dir;
    std::string temp;
    std::string leaf;
    bool no_replace = false;  // STOU: never clobber a file that appeared meanwhile
    // Renames the finished upload over `leaf`; 0 or errno.
    int rename_into_place() const;
  };
  struct Transfer {
    std::string verb;
    std::string path;
    std::optional<Upload> upload;
    std::chrono::steady_clock::time_point started;
    // A user with a quota uploading: its account, and the size of the file the upload replaces
    // or appends to when one was there.
    std::shared_ptr<UploadCharge> charge;
    std::optional<uint64_t> replaced_size;
  };

  // passive_open_, and the metric of passive listeners open kept in step with it.
  void set_passive_open(bool open) {
    if (open != passive_open_) count(Metric::kPassiveListenersOpen, open ? 1 : -1);
    passive_open_ = open;
  }

  // The state machine (session_state.cpp): queued lines, waits, queue-jumping verbs.
  void process(Buffer& out);
  void handle_urgent(Buffer& out);
  void execute(const Line& line, Buffer& out);
  void end_session(const char* reason);
  // Hands `job` to the model (WorkRequest) and waits; `then` runs in work_done() on this thread.
  void start_work(std::function<void()> job, std::function<void(Buffer&)> then);
  void cmd_abor(const std::string& arg, Buffer& out);

  // Login (login_commands.cpp).
  struct Login {
    std::string name;
    std::filesystem::path root;
    FtpRights rights;
    uint64_t max_rate = 0;
    std::optional<QuotaLimits> quota;
  };
  void finish_login(bool ok, Login login, Buffer& out);
  void complete_login(PathJail jail, Login login, Buffer& out);
  // A user with a quota: what it stores is counted (a WorkRequest) before the 230.
  void start_usage_scan(PathJail jail, Login login, Buffer& out);
  void reset_login();
  void reply_login_failed(Buffer& out);
  void cmd_user(const std::string& arg, Buffer& out);
  void cmd_pass(const std::string& arg, Buffer& out);
  void cmd_quit(const std::string& arg, Buffer& out);
  void cmd_rein(const std::string& arg, Buffer& out);

  // FTPS (tls_commands.cpp): AUTH, PBSZ, PROT, CCC, and the levels of --tls.
  void cmd_auth(const std::string& arg, Buffer& out);
  void cmd_pbsz(const std::string& arg, Buffer& out);
  void cmd_prot(const std::string& arg, Buffer& out);
  void cmd_ccc(const std::string& arg, Buffer& out);
  // False once a 530 says this USER must come under TLS.
  bool tls_allows_login(const std::string& name, Buffer& out);
  // False once a 521 says this transfer must be protected (PROT P).
  bool tls_allows_transfer(Buffer& out);

  // The data connection and transfers (data_commands.cpp).
  bool data_ready(Buffer& out);
  void start_transfer(TransferRequest request, Transfer transfer, std::string_view message,
                      Buffer& out);
  void reply_passive(const PassiveResult& result, Buffer& out);
  void finish_transfer(const TransferResult& result, Buffer& out);
  void log_transfer(const Transfer& transfer, const TransferResult& result, int error);
  void use_active(const Address& target, Buffer& out);
  bool refused_by_epsv_all(Buffer& out);
  void request_passive(bool extended);
  void cmd_pasv(const std::string& arg, Buffer& out);
  void cmd_epsv(const std::string& arg, Buffer& out);
  void cmd_port(const std::string& arg, Buffer& out);
  void cmd_eprt(const std::string& arg, Buffer& out);

  // Files and folders, each through the PathJail (file_commands.cpp).
  bool resolve(const std::string& arg, std::string* vpath, Buffer& out);
  bool allowed(bool right, Buffer& out);
  // resolve(), the read right and a stat: false once a reply says why not.
  bool stat_readable(const std::string& arg, std::string* vpath, struct stat* st, Buffer& out);
  void start_listing(const std::string& arg, ListingFormat format, Buffer& out);
  void finish_listing(FolderListing& listing, Buffer& out);
  void start_upload(const std::string& arg, int kind, Buffer& out);
  int make_temp(const Fd& dir, std::string* name, Fd* file);
  // Quotas (quota_commands.cpp): the upload's account, or false once a 552 says no room.
  bool open_charge(int kind, int stat_error, const struct stat& st, Transfer* transfer,
                   TransferRequest* request, Buffer& out);
  // What the regular file at `vpath` takes from the quota (not following a symlink), if any.
  std::optional<QuotaUsage> stored_file(std::string_view vpath) const;
  // Runs `change` (an unlink or a rename) that frees what `freed` names from the quota.
  int change_stored(std::optional<QuotaUsage> freed, const std::function<int()>& change);
  void commit_upload(Transfer& transfer, TransferResult::Status* status, int* error);
  // What new uploads and folders are created with: --umask applied here, not left to the
  // process's umask.
  mode_t file_mode() const { return 0666 & ~config_.umask; }
  mode_t folder_mode() const { return 0777 & ~config_.umask; }
  void cmd_pwd(const std::string& arg, Buffer& out);
  void cmd_cwd(const std::string& arg, Buffer& out);
  void cmd_cdup(const std::string& arg, Buffer& out);
  void cmd_list(const std::string& arg, Buffer& out);
  void cmd_nlst(const std::string& arg, Buffer& out);
  void cmd_mlsd(const std::string& arg, Buffer& out);
  void cmd_mlst(const std::string& arg, Buffer& out);
  void cmd_retr(const std::string& arg, Buffer& out);
  void cmd_stor(const std::string& arg, Buffer& out);
  void cmd_stou(const std::string& arg, Buffer& out);
  void cmd_appe(const std::string& arg, Buffer& out);
  void cmd_size(const std::string& arg, Buffer& out);
  void cmd_mdtm(const std::string& arg, Buffer& out);
  void cmd_dele(const std::string& arg, Buffer& out);
  void cmd_rnfr(const std::string& arg, Buffer& out);
  void cmd_rnto(const std::string& arg, Buffer& out);
  void cmd_mkd(const std::string& arg, Buffer& out);
  void cmd_rmd(const std::string& arg, Buffer& out);

  // Attributes: modification time and mode (attribute_commands.cpp, site_commands.cpp).
  bool resolve_existing_writable(std::string_view arg, std::string* vpath, Buffer& out);
  std::optional<mode_t> allowed_mode(std::string_view vpath, std::string_view text, Buffer& out);
  void cmd_mfmt(const std::string& arg, Buffer& out);
  void cmd_mff(const std::string& arg, Buffer& out);
  void cmd_site(const std::string& arg, Buffer& out);
  void site_chmod(std::string_view arg, Buffer& out);
  void site_help(Buffer& out);

  // Digests of files and of byte ranges (hash_commands.cpp).
  void cmd_hash(const std::string& arg, Buffer& out);
  void cmd_rang(const std::string& arg, Buffer& out);
  void opts_hash(std::string_view name, Buffer& out);

  // Information and transfer parameters (info_commands.cpp).
  void cmd_noop(const std::string& arg, Buffer& out);
  void cmd_syst(const std::string& arg, Buffer& out);
  void cmd_feat(const std::string& arg, Buffer& out);
  void cmd_opts(const std::string& arg, Buffer& out);
  void cmd_help(const std::string& arg, Buffer& out);
  void cmd_stat(const std::string& arg, Buffer& out);
  void cmd_type(const std::string& arg, Buffer& out);
  void cmd_mode(const std::string& arg, Buffer& out);
  void cmd_stru(const std::string& arg, Buffer& out);
  void cmd_allo(const std::string& arg, Buffer& out);
  void cmd_rest(const std::string& arg, Buffer& out);
  void cmd_unimplemented(const std::string& arg, Buffer& out);

  const FtpConfig& config_;
  const ConnectionInfo& info_;  // the host's, which outlives this session
  std::chrono::steady_clock::time_point opened_;
  LineFramer framer_;
  // Lists, not deques: an empty libstdc++ deque still allocates ~600 bytes, and an idle session
  // should cost little.
  std::list<Line> lines_;
  std::list<DataRequest> requests_;
  Wait wait_ = Wait::kNone;
  std::unique_ptr<std::function<void(Buffer&)>> after_work_;  // set while wait_ is kWork
  bool done_ = false;
  const char* end_reason_ = "closed";
  uint64_t commands_ = 0;
  // Nothing but QUIT so far (or nothing at all): a health probe, logged at debug when it ends.
  bool only_quit_ = true;

  // Login.
  // The rarely set parameters below (a USER awaiting PASS, RNFR's path, PORT's target, RANG's
  // range) live on the heap while set: an idle session pays 8 bytes for each, not 24-40.
  std::unique_ptr<std::string> pending_user_;
  std::string user_;
  bool logged_in_ = false;
  FtpRights rights_{false, false, false, false, false};
  int failures_ = 0;
  uint64_t max_rate_ = 0;  // bytes a second on data connections; 0: no limit
  // Set once the login's usage scan is in: the quota is enforced (on the heap: most users have
  // none). `slot` is the user's account in config_.quotas.
  struct EnforcedQuota {
    QuotaLimits limits;
    size_t slot;
  };
  std::unique_ptr<EnforcedQuota> quota_;
  PathJail jail_;
  std::string cwd_ = "/";

  // FTPS: the control connection is under TLS (AUTH TLS or the implicit listener); PBSZ seen;
  // PROT P in force for data connections.
  bool tls_control_ = false;
  bool pbsz_ = false;
  bool prot_private_ = false;

  // Transfer parameters.
  bool ascii_ = false;
  uint64_t rest_ = 0;
  std::unique_ptr<std::string> rename_from_;
  std::unique_ptr<Address> active_target_;
  bool passive_open_ = false;      // set through set_passive_open(), which keeps the gauge
  bool passive_extended_ = false;  // the pending PassiveRequest answers EPSV (229), not PASV
  bool epsv_all_ = false;
  bool abort_pending_ = false;
  int extra_aborts_ = 0;  // ABORs after the first for one transfer: each gets 225 after its 226
  // On the heap: an idle session (the common case) pays 8 bytes for it, not ~170.
  std::unique_ptr<Transfer> transfer_;

  // HASH.
  HashAlgorithm hash_algorithm_ = HashAlgorithm::kSha256;  // OPTS HASH
  std::unique_ptr<ByteRange> hash_range_;                  // RANG, for the next HASH
};

}  // namespace nm::ftp
