#include "net/signals.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <system_error>

namespace nm {
namespace {

int g_stop_write_fd = -1;
int g_drain_write_fd = -1;
std::chrono::milliseconds g_drain_timeout{0};
volatile sig_atomic_t g_draining = 0;
std::atomic<unsigned> g_reload_generation{0};
static_assert(std::atomic<unsigned>::is_always_lock_free, "bumped from a signal handler");

void raise_pipe(int fd) {
  char byte = 1;
  [[maybe_unused]] auto n = ::write(fd, &byte, 1);
}

void on_stop_signal(int signal) {
  int saved = errno;
  if (signal == SIGTERM && !g_draining && g_drain_timeout.count() > 0) {
    g_draining = 1;
    // setitimer is a plain system call on Linux, safe here; SIGALRM ends the drain.
    itimerval timer{};
    timer.it_value.tv_sec = static_cast<time_t>(g_drain_timeout.count() / 1000);
    timer.it_value.tv_usec = static_cast<suseconds_t>(g_drain_timeout.count() % 1000 * 1000);
    ::setitimer(ITIMER_REAL, &timer, nullptr);
    raise_pipe(g_drain_write_fd);
  } else {
    raise_pipe(g_stop_write_fd);
  }
  errno = saved;
}

void on_reload_signal(int) {
  g_reload_generation.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

void set_drain_timeout(std::chrono::milliseconds timeout) {
  g_drain_timeout = timeout;
}

StopSignals install_stop_signals() {
  int stop[2], drain[2];
  if (pipe2(stop, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  if (pipe2(drain, O_CLOEXEC | O_NONBLOCK) != 0) {
    ::close(stop[0]);
    ::close(stop[1]);
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  g_stop_write_fd = stop[1];
  g_drain_write_fd = drain[1];
  // A forked child starts undrained, with no timer of its parent's (fork does not inherit one).
  g_draining = 0;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  // One handler at a time: a second SIGTERM sees the first one's g_draining.
  sigaddset(&sa.sa_mask, SIGTERM);
  sigaddset(&sa.sa_mask, SIGINT);
  sigaddset(&sa.sa_mask, SIGALRM);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGALRM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return {stop[0], drain[0]};
}

void restore_default_signals() {
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGALRM, SIG_DFL);
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

bool signalled(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

}  // namespace nm
