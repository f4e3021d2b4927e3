#pragma once

#include <pthread.h>
#include <sys/types.h>

#include <cstddef>
#include <optional>

#include "net/address.hpp"

namespace nm {

// --max-per-ip by the client's own address when connections come through a balancer (PROXY
// protocol): at accept time every connection comes from the balancer, so the count can only be
// taken once SessionHost has read the header. One table for every model, in memory shared by all
// of the server's processes (MAP_SHARED | MAP_ANONYMOUS, mapped by `serve` before any model forks)
// under one process-shared robust mutex, so the threaded and event models (one process), fork
// (the parent accepts, a child reads the header and serves) and prefork (workers accept and serve)
// all count in the same place and no process has to ask another.
// Why not the accept-time Admission or prefork's WorkerTable: the first is per process, so fork's
// children could not count in it, and the second has a slot per worker, which fork has not; one
// table keyed by session, with the owning pid, serves both, and the parents of fork and prefork
// give back the claims of a child that died without releasing them (release_process), as
// WorkerTable does for its slots. Thread-safe and process-safe; any thread of any process.
class ClientLimit {
 public:
  // Room for `capacity` sessions at once (past it a session is refused, as past the limit).
  ClientLimit(size_t max_per_ip, size_t capacity);
  ~ClientLimit();
  ClientLimit(const ClientLimit&) = delete;
  ClientLimit& operator=(const ClientLimit&) = delete;

  // Counts one session from `client` for this process; nullopt past --max-per-ip (or the table's
  // capacity). The claim is given back with release().
  std::optional<size_t> claim(const Address& client);
  void release(size_t claim);
  // A parent: the child `pid` is gone; its claims (if it died holding any) are free again.
  void release_process(pid_t pid);
  // Sessions counted now for `client` (tests).
  size_t count(const Address& client) const;

 private:
  struct Slot {
    pid_t pid;      // 0: free
    char host[48];  // numeric, as Address::host() gives it
  };
  struct Shared {
    pthread_mutex_t mutex;
    size_t max_per_ip;
    size_t capacity;
    size_t used;  // slots [0, used) have ever been taken: the rest need no scan
    Slot slot[1];
  };

  Shared* shared_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace nm
