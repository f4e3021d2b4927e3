#pragma once

#include <pthread.h>

namespace nm {

// A mutex in memory shared by fork()ed processes (a MAP_SHARED mapping made before they fork):
// process-shared, and robust, because a process may die holding it (a crash, a SIGKILL); the next
// locker then takes it over. What it guards must therefore stay consistent between any two
// stores, which its users keep by writing one field at a time or by marking a half-done copy.
void init_process_mutex(pthread_mutex_t* mutex);

// Holds a process mutex for a scope.
class ProcessMutexLock {
 public:
  explicit ProcessMutexLock(pthread_mutex_t* mutex);
  ~ProcessMutexLock() { ::pthread_mutex_unlock(mutex_); }
  ProcessMutexLock(const ProcessMutexLock&) = delete;
  ProcessMutexLock& operator=(const ProcessMutexLock&) = delete;

 private:
  pthread_mutex_t* mutex_;
};

}  // namespace nm
