// The data connection: PASV, EPSV, PORT and EPRT choose how the next one opens; start_transfer()
// hands a transfer to the model and finish_transfer() answers how it ended (renaming a finished
// upload into place). The model owns the sockets; this file only asks and answers.

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "net/logfmt.hpp"
#include "services/ftp/parameters.hpp"
#include "services/ftp/reply.hpp"
#include "services/ftp/session.hpp"
#include "session/metrics.hpp"

namespace nm::ftp {
namespace {

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
    case TransferResult::Status::kTlsFailed:
      return "tls-failed";
    case TransferResult::Status::kTlsNotResumed:
      return "tls-not-resumed";
  }
  return "unknown";
}

void reply_transfer_status(TransferResult::Status status, uint64_t bytes, int error, Buffer& out) {
  switch (status) {
    case TransferResult::Status::kOk:
      reply(out, 226, "Transfer complete (" + std::to_string(bytes) + " bytes).");
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
    case TransferResult::Status::kTlsFailed:
      reply(out, 522, "TLS handshake on the data connection failed; transfer aborted.");
      break;
    case TransferResult::Status::kTlsNotResumed:
      // Named so that whoever runs a client without reuse (Python's stock ftplib) finds the way.
      reply(out, 522,
            "The data connection must resume the control connection's TLS session (the server "
            "can turn this off with --tls-no-reuse).");
      break;
    case TransferResult::Status::kFileError:
      if (error == EDQUOT) {
        // A user's quota (or the file system's): RFC 959's exceeded storage allocation.
        reply(out, 552, "Exceeded storage allocation (quota); transfer aborted.");
      } else if (error == ENOSPC) {
        reply(out, 452, "Insufficient storage space; transfer aborted.");
      } else {
        reply(out, 451, std::string("Local error: ") + std::strerror(error) + ".");
      }
      break;
  }
}

}  // namespace

bool FtpSession::data_ready(Buffer& out) {
  if (!passive_open_ && !active_target_) {
    reply(out, 425, "Use PORT, EPRT, PASV or EPSV first.");
    return false;
  }
  return tls_allows_transfer(out);
}

void FtpSession::start_transfer(TransferRequest request, Transfer transfer,
                                std::string_view message, Buffer& out) {
  request.ascii = ascii_ && request.memory.empty();
  if (active_target_) request.active_target = *active_target_;
  request.protect = prot_private_;
  request.max_rate = max_rate_;
  active_target_.reset();
  set_passive_open(false);
  rest_ = 0;
  reply(out, 150, message);
  transfer.started = std::chrono::steady_clock::now();
  transfer_ = std::make_unique<Transfer>(std::move(transfer));
  requests_.emplace_back(std::move(request));
  wait_ = Wait::kTransfer;
}

void FtpSession::log_transfer(const Transfer& transfer, const TransferResult& result, int error) {
  bool upload = transfer.verb == "STOR" || transfer.verb == "APPE" || transfer.verb == "STOU";
  count(upload ? Metric::kBytesReceived : Metric::kBytesSent, static_cast<int64_t>(result.bytes));
  count_transfer(transfer.verb,
                 result.status == TransferResult::Status::kOk && error == 0 ? TransferOutcome::kOk
                 : result.status == TransferResult::Status::kAborted ? TransferOutcome::kAborted
                                                                     : TransferOutcome::kFailed);
  std::string err = error != 0 ? std::string(" error=") + logfmt_value(std::strerror(error)) : "";
  spdlog::info("event=transfer user={} peer={} cmd={} path={} bytes={} ms={} result={}{}",
               logfmt_value(user_), info_.peer.to_string(), transfer.verb,
               logfmt_value(transfer.path), result.bytes, elapsed_ms(transfer.started),
               status_name(result.status), err);
  if (config_.xferlog) {
    config_.xferlog->record(transfer.verb, transfer.path, result, transfer.started, info_.peer,
                            ascii_, user_);
  }
}

int FtpSession::Upload::rename_into_place() const {
  int rc = no_replace
               ? ::renameat2(dir.get(), temp.c_str(), dir.get(), leaf.c_str(), RENAME_NOREPLACE)
               : ::renameat(dir.get(), temp.c_str(), dir.get(), leaf.c_str());
  return rc == 0 ? 0 : errno;
}

// An upload that arrived whole is renamed over its target; one that did not is removed.
void FtpSession::finish_transfer(const TransferResult& result, Buffer& out) {
  Transfer transfer = std::move(*transfer_);
  transfer_.reset();
  auto status = result.status;
  int error = result.error;
  if (transfer.charge) {
    commit_upload(transfer, &status, &error);
  } else if (transfer.upload && status == TransferResult::Status::kOk) {
    if (int err = transfer.upload->rename_into_place()) {
      error = err;
      status = TransferResult::Status::kFileError;
    }
  }
  if (transfer.upload && status != TransferResult::Status::kOk) {
    ::unlinkat(transfer.upload->dir.get(), transfer.upload->temp.c_str(), 0);
  }
  TransferResult logged = result;
  logged.status = status;
  log_transfer(transfer, logged, error);
  reply_transfer_status(status, result.bytes, error, out);
}

void FtpSession::reply_passive(const PassiveResult& result, Buffer& out) {
  if (!result.ok) {
    set_passive_open(false);
    reply(out, 425, std::string("Cannot open passive connection: ") + std::strerror(result.error));
    return;
  }
  set_passive_open(true);
  active_target_.reset();
  uint16_t port = result.bound.port();
  if (passive_extended_) {
    reply(out, 229, "Entering Extended Passive Mode (|||" + std::to_string(port) + "|)");
    return;
  }
  std::string host = config_.pasv_address ? config_.pasv_address->host() : ipv4_host(result.bound);
  if (host.empty()) host = ipv4_host(info_.local);
  std::replace(host.begin(), host.end(), '.', ',');
  reply(out, 227,
        "Entering Passive Mode (" + host + "," + std::to_string(port >> 8) + "," +
            std::to_string(port & 0xff) + ")");
}

// After EPSV ALL a client promised to use EPSV only (RFC 2428): NAT-friendly set-ups stay so.
bool FtpSession::refused_by_epsv_all(Buffer& out) {
  if (epsv_all_) reply(out, 501, "EPSV ALL is in effect: use EPSV.");
  return epsv_all_;
}

// A listener on the control connection's local host; its answer picks 227 or 229.
void FtpSession::request_passive(bool extended) {
  passive_extended_ = extended;
  Address bind = info_.local;
  bind.set_port(0);
  requests_.emplace_back(PassiveRequest{bind, config_.pasv_port_min, config_.pasv_port_max});
  wait_ = Wait::kPassive;
}

void FtpSession::cmd_pasv(const std::string&, Buffer& out) {
  if (refused_by_epsv_all(out)) return;
  if (is_ipv6_only(info_.local)) {
    reply(out, 522, "PASV is IPv4 only; use EPSV (2).");
    return;
  }
  request_passive(false);
}

void FtpSession::cmd_epsv(const std::string& arg, Buffer& out) {
  auto u = to_upper(arg);
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
  request_passive(true);
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
  active_target_ = std::make_unique<Address>(target);
  set_passive_open(false);
  requests_.emplace_back(ClosePassiveRequest{});
  reply(out, 200, "Active data connection set. Consider using PASV.");
}

void FtpSession::cmd_port(const std::string& arg, Buffer& out) {
  if (refused_by_epsv_all(out)) return;
  auto target = parse_port_argument(arg);
  if (!target) {
    reply(out, 501, "PORT wants h1,h2,h3,h4,p1,p2.");
    return;
  }
  use_active(*target, out);
}

void FtpSession::cmd_eprt(const std::string& arg, Buffer& out) {
  if (refused_by_epsv_all(out)) return;
  auto parsed = parse_eprt_argument(arg);
  if (const auto* error = std::get_if<EprtError>(&parsed)) {
    if (*error == EprtError::kUnsupportedProtocol) {
      reply(out, 522, "Network protocol not supported, use (1,2)");
    } else {
      reply(out, 501, "EPRT wants |proto|host|port|.");
    }
    return;
  }
  use_active(std::get<Address>(parsed), out);
}

}  // namespace nm::ftp
