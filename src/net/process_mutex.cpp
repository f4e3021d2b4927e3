#include "net/process_mutex.hpp"

#include <cerrno>

namespace nm {

void init_process_mutex(pthread_mutex_t* mutex) {
  pthread_mutexattr_t attr;
  ::pthread_mutexattr_init(&attr);
  ::pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  ::pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  ::pthread_mutex_init(mutex, &attr);
  ::pthread_mutexattr_destroy(&attr);
}

ProcessMutexLock::ProcessMutexLock(pthread_mutex_t* mutex) : mutex_(mutex) {
  if (::pthread_mutex_lock(mutex_) == EOWNERDEAD) ::pthread_mutex_consistent(mutex_);
}

}  // namespace nm
