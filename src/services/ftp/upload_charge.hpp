#pragma once

#include <cstdint>
#include <memory>

#include "services/ftp/quota_table.hpp"
#include "session/session.hpp"

namespace nm::ftp {

// One upload's account with its user's quota: the UploadQuota the driver's pump asks before it
// writes. The session opens it when the upload starts (holding a file of the count when the
// upload makes a new file), the pump takes bytes as they arrive, and the session ends it: around
// the rename that stores the upload (begin_commit, end_commit with what stored changed by), or
// with cancel() when the upload failed. What it still holds is given back when it dies unended.
// An overwrite's bytes are taken first from `credit`, the size of the file it replaces, so
// replacing a file counts the difference, as the commit does. Owned by the session's Transfer and
// its request (shared); used on the session's thread only, the table synchronises with the rest.
class UploadCharge final : public UploadQuota {
 public:
  // nullptr when the file count is full (`new_file`) or no byte is left (with no credit): the
  // upload is refused before it starts.
  static std::shared_ptr<UploadCharge> open(std::shared_ptr<QuotaTable> table, size_t slot,
                                            const QuotaLimits& limits, uint64_t credit,
                                            bool new_file);
  UploadCharge(std::shared_ptr<QuotaTable> table, size_t slot, const QuotaLimits& limits,
               uint64_t credit, QuotaUsage held);
  ~UploadCharge() override;
  UploadCharge(const UploadCharge&) = delete;
  UploadCharge& operator=(const UploadCharge&) = delete;

  bool take(uint64_t bytes) override;
  // The upload went past the quota (take() said no): 552.
  bool refused() const { return refused_; }

  // Before the rename that stores the upload (or, written in place, from its start): a change
  // in progress, so no login walk adopts a figure that saw half of it.
  void begin_commit();
  // `delta`: what stored changed by (size written minus size replaced, and a file when none was
  // replaced); zero when the rename failed. The reservation held is given back either way.
  void end_commit(QuotaUsage delta);
  // The upload failed: give back what it holds (and end its change, if one began).
  void cancel();

 private:
  std::shared_ptr<QuotaTable> table_;
  size_t slot_;
  QuotaLimits limits_;
  uint64_t credit_;
  QuotaUsage held_;
  bool refused_ = false;
  bool changing_ = false;  // begin_commit() ran
  bool ended_ = false;
};

}  // namespace nm::ftp
