// Quotas (the users file's quota=BYTES[,FILES], pure-ftpd's -n): what a user stores is counted at
// login by a walk of its root (a WorkRequest: never on an event loop), then kept up to date in the
// server-wide QuotaTable (quota_table.hpp says why shared memory, and how concurrent uploads of
// one user are kept within the quota). An upload reserves room as its bytes arrive and is refused
// 552 the moment it would pass the quota, or before it starts when ALLO announces too much or
// nothing is left; its temporary file is removed, the previous file stays. An overwrite counts
// the size difference, DELE and an overwriting RNTO give room back.

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <memory>

#include "net/logfmt.hpp"
#include "services/ftp/parameters.hpp"
#include "services/ftp/reply.hpp"
#include "services/ftp/session.hpp"
#include "services/ftp/stored_scan.hpp"

namespace nm::ftp {
namespace {

enum UploadKind { kStor, kAppe, kStou };

std::string quota_text(const QuotaLimits& limits) {
  std::string text = std::to_string(limits.bytes) + " bytes";
  if (limits.files > 0) text += ", " + std::to_string(limits.files) + " files";
  return text;
}

}  // namespace

void FtpSession::start_usage_scan(PathJail jail, Login login, Buffer& out) {
  auto slot = config_.quotas->slot(login.name);
  auto scan = std::make_shared<StoredScan>();
  if (!slot || jail.open("/", O_RDONLY | O_DIRECTORY, &scan->root) != 0) {
    spdlog::warn("event=quota user={} result=unenforced reason={}", logfmt_value(login.name),
                 logfmt_value(slot ? "root unreadable" : "quota table full"));
    login.quota.reset();
    complete_login(std::move(jail), std::move(login), out);
    return;
  }
  uint64_t since = config_.quotas->generation(*slot);
  // std::function wants a copyable callable: the jail (move-only) rides in a shared_ptr.
  auto held = std::make_shared<PathJail>(std::move(jail));
  start_work(
      [scan] { scan->run(); },
      [this, scan, since, slot = *slot, held, login = std::move(login)](Buffer& done_out) mutable {
        QuotaUsage usage = scan->error == 0 ? config_.quotas->attach(slot, scan->stored, since)
                                            : config_.quotas->usage(slot);
        spdlog::info("event=quota user={} bytes={} files={} quota={} result={}",
                     logfmt_value(login.name), usage.bytes, usage.files,
                     logfmt_value(quota_text(*login.quota)),
                     scan->error == 0 ? "ok" : "scan-failed");
        quota_ = std::make_unique<EnforcedQuota>(EnforcedQuota{*login.quota, slot});
        complete_login(std::move(*held), std::move(login), done_out);
      });
}

bool FtpSession::open_charge(int kind, int stat_error, const struct stat& st, Transfer* transfer,
                             TransferRequest* request, Buffer& out) {
  if (!quota_) return true;
  bool replaces = stat_error == 0;
  bool in_place = kind == kAppe || (kind == kStor && rest_ > 0);
  auto size = replaces ? static_cast<uint64_t>(st.st_size) : 0;
  // A STOR replaces the whole file: its bytes are room the upload may reuse. A resumed STOR
  // replaces what follows the offset; APPE replaces nothing.
  uint64_t credit = 0;
  if (kind == kStor) credit = rest_ < size ? size - rest_ : 0;
  auto charge = UploadCharge::open(config_.quotas, quota_->slot, quota_->limits, credit, !replaces);
  if (!charge) {
    reply(out, 552, "Quota exceeded (" + quota_text(quota_->limits) + "); upload refused.");
    return false;
  }
  // Written in place, the file grows under a walk's eyes: a change in progress from now on.
  if (in_place) charge->begin_commit();
  if (replaces) transfer->replaced_size = size;
  transfer->charge = charge;
  request->quota = std::move(charge);
  return true;
}

void FtpSession::commit_upload(Transfer& transfer, TransferResult::Status* status, int* error) {
  auto& charge = *transfer.charge;
  if (!transfer.upload) {
    // Appended or resumed in place: what the file holds now is stored, whatever the outcome.
    struct stat now {};
    auto size = jail_.stat(transfer.path, &now) == 0 ? static_cast<int64_t>(now.st_size) : 0;
    auto before = static_cast<int64_t>(transfer.replaced_size.value_or(0));
    charge.end_commit({size - before, transfer.replaced_size ? 0 : 1});
    return;
  }
  auto& up = *transfer.upload;
  if (*status != TransferResult::Status::kOk) {
    charge.cancel();
    return;
  }
  struct stat temp {
  }, target{};
  ::fstatat(up.dir.get(), up.temp.c_str(), &temp, AT_SYMLINK_NOFOLLOW);
  bool replaced = !up.no_replace &&
                  ::fstatat(up.dir.get(), up.leaf.c_str(), &target, AT_SYMLINK_NOFOLLOW) == 0 &&
                  S_ISREG(target.st_mode);
  QuotaUsage delta{temp.st_size - (replaced ? target.st_size : 0), replaced ? 0 : 1};
  charge.begin_commit();
  int rc = up.rename_into_place();
  if (rc != 0) {
    *error = rc;
    *status = TransferResult::Status::kFileError;
  }
  charge.end_commit(rc == 0 ? delta : QuotaUsage{});
}

std::optional<QuotaUsage> FtpSession::stored_file(std::string_view vpath) const {
  Fd dir;
  std::string leaf;
  struct stat st {};
  if (jail_.open_parent(vpath, &dir, &leaf) != 0 ||
      ::fstatat(dir.get(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
    return std::nullopt;
  }
  return QuotaUsage{st.st_size, 1};
}

int FtpSession::change_stored(std::optional<QuotaUsage> freed, const std::function<int()>& change) {
  if (!quota_ || !freed) return change();
  config_.quotas->begin_change(quota_->slot);
  int err = change();
  QuotaUsage delta{err == 0 ? -freed->bytes : 0, err == 0 ? -freed->files : 0};
  config_.quotas->end_change(quota_->slot, {}, delta);
  return err;
}

// ALLO: nothing to allocate, but with a quota a size that cannot fit is refused now, before the
// client sends a byte of it (RFC 959: 552, exceeded storage allocation).
void FtpSession::cmd_allo(const std::string& arg, Buffer& out) {
  if (quota_ && quota_->limits.bytes > 0) {
    auto size = parse_u64(arg.substr(0, arg.find(' ')));
    if (!size) {
      reply(out, 501, "ALLO needs a size in bytes.");
      return;
    }
    auto used = config_.quotas->usage(quota_->slot).bytes;
    uint64_t bytes = quota_->limits.bytes;
    uint64_t room = used < static_cast<int64_t>(bytes) ? bytes - static_cast<uint64_t>(used) : 0;
    if (*size > room) {
      reply(out, 552,
            "Quota exceeded: " + std::to_string(room) + " of " + std::to_string(bytes) +
                " bytes free.");
      return;
    }
  }
  reply(out, 202, "No storage allocation necessary.");
}

}  // namespace nm::ftp
