#pragma once

#include <pthread.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace nm::ftp {

// A user's quota (the users file's quota=BYTES[,FILES]); 0: that part is unlimited.
struct QuotaLimits {
  uint64_t bytes = 0;
  uint64_t files = 0;
};

// Bytes and files, stored or about to be.
struct QuotaUsage {
  int64_t bytes = 0;
  int64_t files = 0;
};

// What each user with a quota stores, for every session of the server at once: one slot per user
// in memory shared by all its processes and threads, under one process-shared robust mutex.
//
// Why shared memory made before the model forks, rather than a lock file in each user's root
// (flock and a count beside the files): fork's children and prefork's workers serve the same
// user at the same time, and each must see the bytes the others are writing right now, not only
// what is on disk; the threaded and event models get the same table for free. A lock file would
// put server state in the user's own folder (listed, deletable, writable by the user under some
// rights) and cost a file open per chunk written. The price: figures live as long as the server;
// a restart counts again from the disk.
//
// A slot holds what is stored (`used`, as the login walk counts it and the sessions keep it up to
// date: an upload's size difference when it is renamed into place, a DELE, an overwriting RNTO)
// and what uploads in flight have reserved (`reserved`: their temporary files, which the walk
// leaves out). A reservation is checked against the limits together with both, so concurrent
// uploads of one user can never pass the quota together: the first to ask past it is refused.
// A login walk may race with another session's change; its figure replaces `used` only when no
// change began or ended while it ran (the generation and the changes in progress say so),
// otherwise the figures the sessions kept are the right ones.
//
// Slots are never freed: 4096 users with a quota since the start fit, past that (or for a name
// over 255 bytes) slot() says nullopt and those users' quotas are not enforced (logged). A
// process killed between begin_change() and end_change() leaves the user's figures as they are
// kept, never replaced by a walk again, and one killed during an upload leaves its reservation:
// both until a restart. Thread-safe, and safe across processes.
class QuotaTable {
 public:
  static constexpr size_t kSlots = 4096;
  static constexpr size_t kNameMax = 255;

  QuotaTable();
  ~QuotaTable();
  QuotaTable(const QuotaTable&) = delete;
  QuotaTable& operator=(const QuotaTable&) = delete;

  // The slot of `user`, made on first use.
  std::optional<size_t> slot(std::string_view user);
  // Before a login walk starts: what attach() compares with.
  uint64_t generation(size_t slot);
  // After it: adopts `stored` unless something changed since `since`. Returns used + reserved.
  QuotaUsage attach(size_t slot, QuotaUsage stored, uint64_t since);
  // Used + reserved.
  QuotaUsage usage(size_t slot);

  // Reserves `bytes` and `files` when used + reserved + them stay within `limits`. When they do
  // not, gives back `held` (what the asking upload reserved before) in the same step and returns
  // false: the upload is refused, and a concurrent one asking next finds that room.
  bool reserve(size_t slot, QuotaUsage add, const QuotaLimits& limits, QuotaUsage held = {});
  void release(size_t slot, QuotaUsage held);
  // Around a rename or an unlink that changes what is stored: begin before it, end after it with
  // the reservation it turns into stored files (`held`) and what stored changed by (`delta`;
  // nothing when the rename failed).
  void begin_change(size_t slot);
  void end_change(size_t slot, QuotaUsage held, QuotaUsage delta);

 private:
  struct Slot;
  struct Shared;
  Slot& at(size_t slot);

  Shared* shared_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace nm::ftp
