// FTPS on the control connection (RFC 4217): AUTH TLS starts TLS, PBSZ and PROT say whether
// data connections are protected, CCC (back to plaintext) is refused. The TLS itself is the
// host's (server/session_host.cpp); the session only keeps the protocol state and the levels
// of --tls: kRequired refuses USER before AUTH, kRequiredData also refuses transfers under
// PROT C. The levels are checked on USER and on the transfer commands, never on PASV / PORT,
// so a client learns what is wrong from the command it cares about.

#include "net/logfmt.hpp"
#include "services/ftp/auth.hpp"
#include "services/ftp/reply.hpp"
#include "services/ftp/session.hpp"

namespace nm::ftp {
namespace {

bool exempt(const FtpConfig& config, const std::string& name) {
  return config.tls_anonymous_plain && is_anonymous_name(name);
}

}  // namespace

void FtpSession::cmd_auth(const std::string& arg, Buffer& out) {
  if (config_.tls == TlsLevel::kOff) {
    reply(out, 502, "TLS is not configured on this server.");
    return;
  }
  auto mechanism = to_upper(arg);
  // TLS and TLS-C (RFC 4217), SSL and TLS-P (older drafts that curl and others still send).
  if (mechanism != "TLS" && mechanism != "TLS-C" && mechanism != "SSL" && mechanism != "TLS-P") {
    reply(out, 504, "AUTH mechanism not supported; use AUTH TLS.");
    return;
  }
  if (tls_control_) {
    reply(out, 503, "Already using TLS.");
    return;
  }
  reply(out, 234, "AUTH " + mechanism + " successful; go ahead with the TLS handshake.");
  tls_control_ = true;
  // Whatever followed the AUTH line in plaintext was sent before the handshake, by the client or
  // by someone between: it must never run as if it came under TLS.
  lines_.clear();
  framer_ = LineFramer();
  requests_.emplace_back(StartTlsRequest{});
}

void FtpSession::cmd_pbsz(const std::string& arg, Buffer& out) {
  if (!tls_control_) {
    reply(out, 503, "PBSZ needs AUTH TLS first.");
    return;
  }
  if (arg.empty() || arg.find_first_not_of("0123456789") != std::string::npos) {
    reply(out, 501, "PBSZ needs a number.");
    return;
  }
  pbsz_ = true;
  // TLS needs no buffer size of its own (RFC 4217 section 8): whatever was asked, it is 0.
  reply(out, 200, "PBSZ=0");
}

void FtpSession::cmd_prot(const std::string& arg, Buffer& out) {
  // RFC 4217 puts PBSZ first; it changes nothing under TLS, and clients that skip it before
  // PROT C (Python's ftplib) are served rather than refused.
  if (!tls_control_) {
    reply(out, 503, "PROT needs AUTH TLS first.");
    return;
  }
  auto level = to_upper(arg);
  if (level == "C") {
    prot_private_ = false;
    reply(out, 200, "Protection level set to Clear.");
  } else if (level == "P") {
    prot_private_ = true;
    reply(out, 200, "Protection level set to Private.");
  } else if (level == "S" || level == "E") {
    reply(out, 536, "Only PROT C and PROT P are supported with TLS.");
  } else {
    reply(out, 504, "Unknown protection level; use PROT C or PROT P.");
  }
}

void FtpSession::cmd_ccc(const std::string&, Buffer& out) {
  // Going back to plaintext would let anyone on the path inject commands from here on.
  reply(out, tls_control_ ? 534 : 533,
        tls_control_ ? "CCC refused: the control connection stays protected."
                     : "The control connection is not protected.");
}

bool FtpSession::tls_allows_login(const std::string& name, Buffer& out) {
  bool required = config_.tls == TlsLevel::kRequired || config_.tls == TlsLevel::kRequiredData;
  if (!required || tls_control_ || exempt(config_, name)) return true;
  reply(out, 530, "This server requires TLS: send AUTH TLS before USER.");
  return false;
}

bool FtpSession::tls_allows_transfer(Buffer& out) {
  if (config_.tls != TlsLevel::kRequiredData || prot_private_ || exempt(config_, user_)) {
    return true;
  }
  reply(out, 521, "Data connections must be protected: send PBSZ 0 and PROT P first.");
  return false;
}

}  // namespace nm::ftp
