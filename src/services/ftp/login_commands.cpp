// Login and the session's life: USER, PASS, QUIT, REIN. A crypt(3) password check is slow
// (yescrypt: ~25-30 ms of CPU), so PASS hands it to the model as a WorkRequest and finishes the
// login in work_done(); plain passwords and anonymous logins are cheap and answered at once.

#include <spdlog/spdlog.h>

#include <cstring>
#include <memory>

#include "net/logfmt.hpp"
#include "services/ftp/auth.hpp"
#include "services/ftp/reply.hpp"
#include "services/ftp/session.hpp"
#include "session/metrics.hpp"

namespace nm::ftp {
namespace {

// What a password-check job shares with the session: filled on the session's thread, `ok` set by
// the job on whichever thread runs it, read back in work_done(). It holds copies of the secret
// and the hash, never a reference into the session or its config.
struct PasswordCheck {
  std::string password;
  std::string hash;
  bool ok = false;
};

}  // namespace

void FtpSession::cmd_user(const std::string& arg, Buffer& out) {
  if (logged_in_) {
    reply(out, 530, "Already logged in; use REIN to change user.");
    return;
  }
  if (arg.empty()) {
    reply(out, 501, "USER needs a name.");
    return;
  }
  if (!tls_allows_login(arg, out)) return;
  pending_user_ = std::make_unique<std::string>(arg);
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
  Login login{
      std::move(*pending_user_), {}, FtpRights{false, false, false, false, false}, 0, std::nullopt};
  pending_user_.reset();
  if (is_anonymous_name(login.name)) {
    login.name = "anonymous";
    login.root = config_.root;
    login.rights.read = true;
    login.rights.write = config_.anonymous_write;
    login.max_rate = config_.anon_max_rate;
    finish_login(config_.anonymous, std::move(login), out);
    return;
  }
  auto user = find_user(config_, login.name);
  if (!user) {
    finish_login(false, std::move(login), out);
    return;
  }
  login.root = user->root.empty() ? config_.root : user->root;
  login.rights = user->rights;
  login.max_rate = user->max_rate > 0 ? user->max_rate : config_.max_rate;
  login.quota = user->quota;
  if (user->plain_password || user->password_hash.empty()) {
    finish_login(verify_password(*user, arg), std::move(login), out);
    return;
  }
  auto check = std::make_shared<PasswordCheck>(PasswordCheck{arg, user->password_hash, false});
  start_work([check] { check->ok = verify_password_hash(check->password, check->hash); },
             [this, check, login = std::move(login)](Buffer& done_out) mutable {
               finish_login(check->ok, std::move(login), done_out);
             });
}

// The rest of PASS once the password is checked: the root jail and 230, or the failure path.
void FtpSession::finish_login(bool ok, Login login, Buffer& out) {
  if (ok) {
    PathJail jail;
    if (int err = PathJail::open_root(login.root, &jail)) {
      spdlog::warn("event=login user={} peer={} result=no-root error={}", logfmt_value(login.name),
                   info_.peer.to_string(), logfmt_value(std::strerror(err)));
      reply(out, 530, "Home folder unavailable.");
      return;
    }
    if (login.quota && config_.quotas) {
      start_usage_scan(std::move(jail), std::move(login), out);
      return;
    }
    complete_login(std::move(jail), std::move(login), out);
    return;
  }
  ++failures_;
  count(Metric::kLoginsFailed);
  spdlog::info("event=login user={} peer={} result=fail failures={}", logfmt_value(login.name),
               info_.peer.to_string(), failures_);
  if (config_.login_failure_delay_ms > 0) {
    requests_.emplace_back(DelayRequest{std::chrono::milliseconds(config_.login_failure_delay_ms)});
    wait_ = Wait::kDelay;
    return;
  }
  reply_login_failed(out);
}

void FtpSession::complete_login(PathJail jail, Login login, Buffer& out) {
  jail_ = std::move(jail);
  user_ = std::move(login.name);
  rights_ = login.rights;
  max_rate_ = login.max_rate;
  logged_in_ = true;
  cwd_ = "/";
  count(Metric::kLoginsOk);
  spdlog::info("event=login user={} peer={} result=ok", logfmt_value(user_),
               info_.peer.to_string());
  reply(out, 230, "Login successful.");
}

void FtpSession::reply_login_failed(Buffer& out) {
  if (failures_ >= config_.max_login_failures) {
    reply(out, 421, "Too many failed logins; closing control connection.");
    end_session("login-failures");
    return;
  }
  reply(out, 530, "Login incorrect.");
}

void FtpSession::reset_login() {
  pending_user_.reset();
  user_.clear();
  logged_in_ = false;
  rights_ = FtpRights{false, false, false, false, false};
  max_rate_ = 0;
  quota_.reset();
  jail_ = PathJail();
  cwd_ = "/";
  ascii_ = false;
  rest_ = 0;
  rename_from_.reset();
  active_target_.reset();
  set_passive_open(false);
  epsv_all_ = false;
  hash_algorithm_ = HashAlgorithm::kSha256;
  hash_range_.reset();
}

void FtpSession::cmd_quit(const std::string&, Buffer& out) {
  reply(out, 221, "Goodbye.");
  end_session("quit");
}

void FtpSession::cmd_rein(const std::string&, Buffer& out) {
  reset_login();
  // The data protection goes back to what a new connection has.
  pbsz_ = info_.implicit_tls;
  prot_private_ = info_.implicit_tls;
  requests_.emplace_back(ClosePassiveRequest{});
  reply(out, 220, "Service ready for new user.");
  // RFC 4217 section 11: REIN clears the TLS session too, and the control connection goes back
  // to clear after both close_notify alerts. Not on the implicit-TLS port, where TLS is the
  // connection itself. A command sent after REIN under TLS is not run (the client must wait for
  // the 220 and end TLS), as AUTH drops what follows it.
  if (tls_control_ && !info_.implicit_tls) {
    tls_control_ = false;
    lines_.clear();
    framer_ = LineFramer();
    requests_.emplace_back(EndTlsRequest{});
  }
}

}  // namespace nm::ftp
