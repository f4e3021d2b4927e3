#include "services/ftp/upload_charge.hpp"

#include <algorithm>

namespace nm::ftp {

std::shared_ptr<UploadCharge> UploadCharge::open(std::shared_ptr<QuotaTable> table, size_t slot,
                                                 const QuotaLimits& limits, uint64_t credit,
                                                 bool new_file) {
  QuotaUsage file{0, new_file ? 1 : 0};
  if (!table->reserve(slot, file, limits)) return nullptr;
  if (credit == 0 && limits.bytes > 0 &&
      table->usage(slot).bytes >= static_cast<int64_t>(limits.bytes)) {
    table->release(slot, file);
    return nullptr;
  }
  return std::make_shared<UploadCharge>(std::move(table), slot, limits, credit, file);
}

UploadCharge::UploadCharge(std::shared_ptr<QuotaTable> table, size_t slot,
                           const QuotaLimits& limits, uint64_t credit, QuotaUsage held)
    : table_(std::move(table)), slot_(slot), limits_(limits), credit_(credit), held_(held) {}

UploadCharge::~UploadCharge() {
  cancel();
}

bool UploadCharge::take(uint64_t bytes) {
  if (refused_ || ended_) return false;
  uint64_t covered = std::min(credit_, bytes);
  credit_ -= covered;
  bytes -= covered;
  if (bytes == 0) return true;
  QuotaUsage more{static_cast<int64_t>(bytes), 0};
  if (table_->reserve(slot_, more, limits_, held_)) {
    held_.bytes += more.bytes;
    return true;
  }
  held_ = {};  // reserve() gave it back with its refusal
  refused_ = true;
  return false;
}

void UploadCharge::begin_commit() {
  if (changing_) return;
  changing_ = true;
  table_->begin_change(slot_);
}

void UploadCharge::end_commit(QuotaUsage delta) {
  if (ended_) return;
  if (!changing_) table_->begin_change(slot_);
  table_->end_change(slot_, held_, delta);
  held_ = {};
  ended_ = true;
}

void UploadCharge::cancel() {
  if (ended_) return;
  ended_ = true;
  if (changing_) {
    table_->end_change(slot_, held_, {});
  } else if (held_.bytes != 0 || held_.files != 0) {
    table_->release(slot_, held_);
  }
  held_ = {};
}

}  // namespace nm::ftp
