#include "uring/recv_buffers.hpp"

#include <spdlog/spdlog.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "net/logfmt.hpp"

namespace nm::uring {

RecvBuffers::RecvBuffers(Ring& ring, unsigned count, size_t size, uint16_t group)
    : ring_(ring), count_(count), size_(size), group_(group) {
  // The kernel wants a page-aligned ring of a power-of-two number of entries.
  ring_bytes_ = sizeof(io_uring_buf) * count;
  void* memory =
      ::mmap(nullptr, ring_bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (memory == MAP_FAILED) return;
  auto* br = static_cast<io_uring_buf_ring*>(memory);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uintptr_t>(br);
  reg.ring_entries = count;
  reg.bgid = group;
  int rc = io_uring_register_buf_ring(ring_.raw(), &reg, 0);
  if (rc < 0) {
    spdlog::info("event=uring-fallback feature=buffer-ring error={} using=buffer-per-connection",
                 logfmt_value(std::strerror(-rc)));
    ::munmap(memory, ring_bytes_);
    return;
  }
  // Resident from the start (MAP_POPULATE): the ring hands buffers out in turn, so any traffic
  // soon touches every one of them, and faulting pages in from the kernel's copy path on the way
  // only makes the server's memory look as if it grew with its clients. It is a fixed cost.
  storage_bytes_ = size_t{count} * size;
  void* storage = ::mmap(nullptr, storage_bytes_, PROT_READ | PROT_WRITE,
                         MAP_ANONYMOUS | MAP_PRIVATE | MAP_POPULATE, -1, 0);
  if (storage == MAP_FAILED) {
    spdlog::info("event=uring-fallback feature=buffer-ring error={} using=buffer-per-connection",
                 logfmt_value(std::strerror(errno)));
    io_uring_unregister_buf_ring(ring_.raw(), group_);
    ::munmap(memory, ring_bytes_);
    return;
  }
  storage_ = static_cast<char*>(storage);
  ring_memory_ = br;
  io_uring_buf_ring_init(br);
  int mask = io_uring_buf_ring_mask(count);
  for (unsigned i = 0; i < count; ++i) {
    io_uring_buf_ring_add(br, buffer(static_cast<uint16_t>(i)), static_cast<unsigned>(size),
                          static_cast<uint16_t>(i), mask, static_cast<int>(i));
  }
  io_uring_buf_ring_advance(br, static_cast<int>(count));
}

RecvBuffers::~RecvBuffers() {
  if (ring_memory_ == nullptr) return;
  io_uring_unregister_buf_ring(ring_.raw(), group_);
  ::munmap(ring_memory_, ring_bytes_);
  ::munmap(storage_, storage_bytes_);
}

std::string_view RecvBuffers::view(uint16_t id, size_t length) const {
  return {buffer(id), length};
}

void RecvBuffers::give_back(uint16_t id) {
  io_uring_buf_ring_add(ring_memory_, buffer(id), static_cast<unsigned>(size_), id,
                        io_uring_buf_ring_mask(count_), 0);
  io_uring_buf_ring_advance(ring_memory_, 1);
}

}  // namespace nm::uring
