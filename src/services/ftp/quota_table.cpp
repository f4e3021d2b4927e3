#include "services/ftp/quota_table.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "net/process_mutex.hpp"

namespace nm::ftp {

struct QuotaTable::Slot {
  char name[kNameMax + 1];  // empty: free
  bool scanned;             // a login walk has set `used` once
  int64_t used_bytes;
  int64_t used_files;
  int64_t reserved_bytes;
  int64_t reserved_files;
  uint64_t generation;  // bumped by every change of `used`
  uint32_t changing;    // begin_change() without its end_change() yet
};

struct QuotaTable::Shared {
  pthread_mutex_t mutex;
  size_t slots_used;
  Slot slot[kSlots];
};

QuotaTable::QuotaTable() : bytes_(sizeof(Shared)) {
  // Zero-filled by the kernel, page by page as slots are first touched.
  void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
  shared_ = static_cast<Shared*>(p);
  init_process_mutex(&shared_->mutex);
}

QuotaTable::~QuotaTable() {
  ::munmap(shared_, bytes_);
}

QuotaTable::Slot& QuotaTable::at(size_t slot) {
  return shared_->slot[slot];
}

std::optional<size_t> QuotaTable::slot(std::string_view user) {
  if (user.empty() || user.size() > kNameMax) return std::nullopt;
  ProcessMutexLock lock(&shared_->mutex);
  for (size_t i = 0; i < shared_->slots_used; ++i) {
    if (user == shared_->slot[i].name) return i;
  }
  if (shared_->slots_used == kSlots) return std::nullopt;
  size_t i = shared_->slots_used;
  std::memcpy(shared_->slot[i].name, user.data(), user.size());
  shared_->slot[i].name[user.size()] = '\0';
  // Counted last: a process dying before this line leaves the slot free, not half made.
  shared_->slots_used = i + 1;
  return i;
}

uint64_t QuotaTable::generation(size_t slot) {
  ProcessMutexLock lock(&shared_->mutex);
  return at(slot).generation;
}

QuotaUsage QuotaTable::attach(size_t slot, QuotaUsage stored, uint64_t since) {
  ProcessMutexLock lock(&shared_->mutex);
  Slot& s = at(slot);
  if (!s.scanned || (s.generation == since && s.changing == 0)) {
    s.scanned = true;
    s.used_bytes = stored.bytes;
    s.used_files = stored.files;
  }
  return {s.used_bytes + s.reserved_bytes, s.used_files + s.reserved_files};
}

QuotaUsage QuotaTable::usage(size_t slot) {
  ProcessMutexLock lock(&shared_->mutex);
  Slot& s = at(slot);
  return {s.used_bytes + s.reserved_bytes, s.used_files + s.reserved_files};
}

bool QuotaTable::reserve(size_t slot, QuotaUsage add, const QuotaLimits& limits, QuotaUsage held) {
  ProcessMutexLock lock(&shared_->mutex);
  Slot& s = at(slot);
  auto fits = [](int64_t now, int64_t more, uint64_t limit) {
    return limit == 0 || more <= 0 || now + more <= static_cast<int64_t>(limit);
  };
  if (fits(s.used_bytes + s.reserved_bytes, add.bytes, limits.bytes) &&
      fits(s.used_files + s.reserved_files, add.files, limits.files)) {
    s.reserved_bytes += add.bytes;
    s.reserved_files += add.files;
    return true;
  }
  s.reserved_bytes -= held.bytes;
  s.reserved_files -= held.files;
  return false;
}

void QuotaTable::release(size_t slot, QuotaUsage held) {
  ProcessMutexLock lock(&shared_->mutex);
  Slot& s = at(slot);
  s.reserved_bytes -= held.bytes;
  s.reserved_files -= held.files;
}

void QuotaTable::begin_change(size_t slot) {
  ProcessMutexLock lock(&shared_->mutex);
  ++at(slot).changing;
}

void QuotaTable::end_change(size_t slot, QuotaUsage held, QuotaUsage delta) {
  ProcessMutexLock lock(&shared_->mutex);
  Slot& s = at(slot);
  s.reserved_bytes -= held.bytes;
  s.reserved_files -= held.files;
  s.used_bytes += delta.bytes;
  s.used_files += delta.files;
  // Stored files changed while a walk may have been reading them: its figure is not adopted.
  ++s.generation;
  if (s.changing > 0) --s.changing;
}

}  // namespace nm::ftp
