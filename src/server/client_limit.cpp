#include "server/client_limit.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>

#include "net/process_mutex.hpp"

namespace nm {

ClientLimit::ClientLimit(size_t max_per_ip, size_t capacity) {
  if (capacity == 0) capacity = 1;
  bytes_ = sizeof(Shared) + (capacity - 1) * sizeof(Slot);
  // Pages are touched only as slots are used: a large capacity costs address space, not memory.
  void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
  shared_ = static_cast<Shared*>(p);
  init_process_mutex(&shared_->mutex);
  shared_->max_per_ip = max_per_ip;
  shared_->capacity = capacity;
  shared_->used = 0;
}

ClientLimit::~ClientLimit() {
  ::munmap(shared_, bytes_);
}

std::optional<size_t> ClientLimit::claim(const Address& client) {
  std::string host = client.host();
  pid_t me = ::getpid();
  ProcessMutexLock lock(&shared_->mutex);
  size_t same = 0;
  std::optional<size_t> free;
  for (size_t i = 0; i < shared_->used; ++i) {
    const Slot& s = shared_->slot[i];
    if (s.pid == 0) {
      if (!free) free = i;
    } else if (host == s.host) {
      ++same;
    }
  }
  if (shared_->max_per_ip && same >= shared_->max_per_ip) return std::nullopt;
  if (!free) {
    if (shared_->used == shared_->capacity) return std::nullopt;
    free = shared_->used++;
  }
  Slot& mine = shared_->slot[*free];
  mine.pid = me;
  std::snprintf(mine.host, sizeof(mine.host), "%s", host.c_str());
  return free;
}

void ClientLimit::release(size_t claim) {
  ProcessMutexLock lock(&shared_->mutex);
  if (claim < shared_->used) shared_->slot[claim].pid = 0;
}

void ClientLimit::release_process(pid_t pid) {
  ProcessMutexLock lock(&shared_->mutex);
  for (size_t i = 0; i < shared_->used; ++i) {
    if (shared_->slot[i].pid == pid) shared_->slot[i].pid = 0;
  }
}

size_t ClientLimit::count(const Address& client) const {
  std::string host = client.host();
  ProcessMutexLock lock(&shared_->mutex);
  size_t n = 0;
  for (size_t i = 0; i < shared_->used; ++i) {
    if (shared_->slot[i].pid != 0 && host == shared_->slot[i].host) ++n;
  }
  return n;
}

}  // namespace nm
