#pragma once

#include <pthread.h>
#include <sys/types.h>

#include <cstddef>
#include <optional>

#include "net/address.hpp"

namespace nm {

// Prefork's workers and the connections they serve, in memory shared by the parent and every
// worker process (MAP_SHARED | MAP_ANONYMOUS, mapped before the first fork), under one
// process-shared robust mutex. It does two jobs:
//  - admission across processes: --max-clients and --max-per-ip count the busy slots, in total
//    and per peer host, so a worker that accepts a connection past a limit refuses it (421);
//  - the pool's size: the parent reads how many workers are idle to keep spares and grow up to
//    the ceiling, and an idle worker retires itself when there are more than enough.
// Why a table rather than the parent accepting and passing descriptors (SCM_RIGHTS): the
// workers keep accepting in parallel straight from the shared listener, as Apache's prefork
// does, and the parent stays off the connection path; a slot per worker also makes a crashed
// worker's count easy to give back (the parent clears the slot of every pid it reaps).
class WorkerTable {
 public:
  WorkerTable(size_t slots, size_t max_clients, size_t max_per_ip);
  ~WorkerTable();
  WorkerTable(const WorkerTable&) = delete;
  WorkerTable& operator=(const WorkerTable&) = delete;

  size_t slots() const;

  // Parent: a free slot for a new worker, or nullopt when the pool is at its ceiling.
  std::optional<size_t> reserve();
  void assign(size_t slot, pid_t pid);
  // Parent: the worker `pid` exited; its slot (and any connection it counted) is free again.
  // False when no slot had that pid (a worker that retired itself).
  bool clear(pid_t pid);

  // Worker in `slot`: counts its connection from `peer`; false past a limit.
  bool admit(size_t slot, const Address& peer);
  void release(size_t slot);
  // Worker in `slot`: leaves the pool when more than `keep_idle` workers are idle and more than
  // `keep_total` exist; true when it left (the slot is free and the worker must exit).
  bool retire(size_t slot, size_t keep_idle, size_t keep_total);

  struct Counts {
    size_t workers = 0;
    size_t idle = 0;
  };
  Counts counts() const;

 private:
  struct Slot {
    pid_t pid;  // 0: no worker
    bool busy;
    char host[64];
  };
  struct Shared {
    pthread_mutex_t mutex;
    size_t slots;
    size_t max_clients;
    size_t max_per_ip;
    Slot slot[1];  // `slots` of them
  };

  Shared* shared_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace nm
