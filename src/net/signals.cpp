#include "net/signals.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <system_error>

namespace nm {
namespace {

int g_stop_write_fd = -1;
std::atomic<unsigned> g_reload_generation{0};
static_assert(std::atomic<unsigned>::is_always_lock_free, "bumped from a signal handler");

void on_stop_signal(int) {
  int saved = errno;
  char byte = 1;
  [[maybe_unused]] auto n = ::write(g_stop_write_fd, &byte, 1);
  errno = saved;
}

void on_reload_signal(int) {
  g_reload_generation.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

int install_stop_signals() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  g_stop_write_fd = fds[1];
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return fds[0];
}

void restore_default_signals() {
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

void install_reload_signal() {
  struct sigaction sa {};
  sa.sa_handler = on_reload_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGHUP, &sa, nullptr);
}

unsigned reload_generation() {
  return g_reload_generation.load(std::memory_order_relaxed);
}

}  // namespace nm
