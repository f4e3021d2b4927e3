#include "models/worker_table.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <system_error>

#include "net/process_mutex.hpp"

#include "session/metrics.hpp"

namespace nm {

WorkerTable::WorkerTable(size_t slots, size_t max_clients, size_t max_per_ip) {
  if (slots == 0) slots = 1;
  bytes_ = sizeof(Shared) + (slots - 1) * sizeof(Slot);
  void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
  std::memset(p, 0, bytes_);
  shared_ = static_cast<Shared*>(p);
  init_process_mutex(&shared_->mutex);
  shared_->slots = slots;
  shared_->max_clients = max_clients;
  shared_->max_per_ip = max_per_ip;
}

WorkerTable::~WorkerTable() {
  ::munmap(shared_, bytes_);
}

size_t WorkerTable::slots() const {
  return shared_->slots;
}

std::optional<size_t> WorkerTable::reserve() {
  ProcessMutexLock lock(&shared_->mutex);
  for (size_t i = 0; i < shared_->slots; ++i) {
    Slot& s = shared_->slot[i];
    if (s.pid == 0) {
      s.pid = -1;  // taken until assign() names the worker
      s.busy = false;
      return i;
    }
  }
  return std::nullopt;
}

void WorkerTable::assign(size_t slot, pid_t pid) {
  ProcessMutexLock lock(&shared_->mutex);
  shared_->slot[slot].pid = pid;
}

bool WorkerTable::clear(pid_t pid) {
  ProcessMutexLock lock(&shared_->mutex);
  for (size_t i = 0; i < shared_->slots; ++i) {
    Slot& s = shared_->slot[i];
    if (s.pid == pid) {
      // A worker killed in the middle of a session never released it.
      if (s.busy) count(Metric::kConnectionsActive, -1);
      s = Slot{};
      return true;
    }
  }
  return false;
}

bool WorkerTable::admit(size_t slot, const Address& peer) {
  std::string host = peer.host();
  ProcessMutexLock lock(&shared_->mutex);
  size_t busy = 0, same_host = 0;
  for (size_t i = 0; i < shared_->slots; ++i) {
    const Slot& s = shared_->slot[i];
    if (s.pid == 0 || !s.busy) continue;
    ++busy;
    if (host == s.host) ++same_host;
  }
  if (shared_->max_clients && busy >= shared_->max_clients) {
    count(Metric::kRefusedMaxClients);
    return false;
  }
  if (shared_->max_per_ip && same_host >= shared_->max_per_ip) {
    count(Metric::kRefusedMaxPerIp);
    return false;
  }
  count(Metric::kConnectionsAccepted);
  count(Metric::kConnectionsActive);
  Slot& mine = shared_->slot[slot];
  mine.busy = true;
  std::snprintf(mine.host, sizeof(mine.host), "%s", host.c_str());
  return true;
}

void WorkerTable::release(size_t slot) {
  ProcessMutexLock lock(&shared_->mutex);
  if (shared_->slot[slot].busy) count(Metric::kConnectionsActive, -1);
  shared_->slot[slot].busy = false;
  shared_->slot[slot].host[0] = '\0';
}

bool WorkerTable::retire(size_t slot, size_t keep_idle, size_t keep_total) {
  ProcessMutexLock lock(&shared_->mutex);
  size_t workers = 0, idle = 0;
  for (size_t i = 0; i < shared_->slots; ++i) {
    const Slot& s = shared_->slot[i];
    if (s.pid == 0) continue;
    ++workers;
    if (!s.busy) ++idle;
  }
  if (idle <= keep_idle || workers <= keep_total) return false;
  shared_->slot[slot] = Slot{};
  return true;
}

WorkerTable::Counts WorkerTable::counts() const {
  ProcessMutexLock lock(&shared_->mutex);
  Counts c;
  for (size_t i = 0; i < shared_->slots; ++i) {
    const Slot& s = shared_->slot[i];
    if (s.pid == 0) continue;
    ++c.workers;
    if (!s.busy) ++c.idle;
  }
  return c;
}

}  // namespace nm
