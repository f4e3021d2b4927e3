#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "uring/ring.hpp"

namespace nm::uring {

// A pool of receive buffers shared by every connection (a provided-buffer ring): a recv names
// the pool instead of a buffer and the kernel picks one only when data arrives, so an idle
// connection holds no receive buffer at all. Each buffer goes back to the pool as soon as its
// bytes were handed to the session, which copies what it keeps.
class RecvBuffers {
 public:
  // When the kernel has no buffer rings (before 5.19), available() is false and connections
  // bring their own buffer.
  RecvBuffers(Ring& ring, unsigned count, size_t size, uint16_t group);
  ~RecvBuffers();
  RecvBuffers(const RecvBuffers&) = delete;
  RecvBuffers& operator=(const RecvBuffers&) = delete;

  bool available() const { return ring_memory_ != nullptr; }
  uint16_t group() const { return group_; }
  size_t buffer_size() const { return size_; }
  unsigned count() const { return count_; }
  // The bytes a completion flagged IORING_CQE_F_BUFFER received into buffer `id`.
  std::string_view view(uint16_t id, size_t length) const;
  void give_back(uint16_t id);

 private:
  char* buffer(uint16_t id) const { return storage_ + size_t{id} * size_; }

  Ring& ring_;
  unsigned count_;
  size_t size_;
  uint16_t group_;
  size_t ring_bytes_ = 0;
  io_uring_buf_ring* ring_memory_ = nullptr;
  char* storage_ = nullptr;  // mmap'd, count_ x size_ bytes
  size_t storage_bytes_ = 0;
};

}  // namespace nm::uring
