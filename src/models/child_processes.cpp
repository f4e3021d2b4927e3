#include "models/child_processes.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <system_error>

#include "net/logfmt.hpp"
#include "net/signals.hpp"

namespace nm {
namespace {

int g_exit_write_fd = -1;

void on_child_exit(int) {
  int saved = errno;
  char byte = 1;
  [[maybe_unused]] auto n = ::write(g_exit_write_fd, &byte, 1);
  errno = saved;
}

}  // namespace

ChildProcesses::ChildProcesses() : reload_seen_(reload_generation()) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  exit_read_.reset(fds[0]);
  g_exit_write_fd = fds[1];
  struct sigaction sa {};
  sa.sa_handler = on_child_exit;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, nullptr);
}

void ChildProcesses::forward_reload() {
  unsigned now = reload_generation();
  if (now == reload_seen_) return;
  reload_seen_ = now;
  for (pid_t pid : pids_) ::kill(pid, SIGHUP);
  spdlog::info("event=reload-forwarded children={}", pids_.size());
}

ChildProcesses::~ChildProcesses() {
  stop_all();
  std::signal(SIGCHLD, SIG_DFL);
  ::close(g_exit_write_fd);
  g_exit_write_fd = -1;
}

pid_t ChildProcesses::spawn(const std::function<void(const StopSignals& signals)>& body) {
  // SIGINT and SIGTERM stay blocked across fork() until the child has its own stop pipe: one
  // that arrives in between is delivered to the child's handler, never to the parent's pipe.
  sigset_t stops, old;
  sigemptyset(&stops);
  sigaddset(&stops, SIGINT);
  sigaddset(&stops, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stops, &old);
  pid_t pid = ::fork();
  if (pid == 0) {
    std::signal(SIGCHLD, SIG_DFL);
    exit_read_.reset();
    int status = 0;
    try {
      StopSignals signals = install_stop_signals();
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      body(signals);
    } catch (const std::exception& e) {
      spdlog::error("event=child-failed error={}", logfmt_value(e.what()));
      status = 1;
    }
    // _exit() skips the buffers: the child's last log lines go out first.
    spdlog::default_logger_raw()->flush();
    ::_exit(status);
  }
  int saved = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid > 0) pids_.insert(pid);
  errno = saved;
  return pid;
}

std::vector<pid_t> ChildProcesses::reap() {
  char drain[64];
  while (::read(exit_read_.get(), drain, sizeof(drain)) > 0) {
  }
  std::vector<pid_t> exited;
  for (;;) {
    pid_t pid = ::waitpid(-1, nullptr, WNOHANG);
    if (pid <= 0) break;
    pids_.erase(pid);
    exited.push_back(pid);
  }
  return exited;
}

void ChildProcesses::drain(int stop_fd, const std::function<void(pid_t)>& on_exit) {
  if (signalled(stop_fd)) return;  // a stop, not a drain: stop_all() follows
  spdlog::info("event=drain-forwarded children={}", pids_.size());
  for (pid_t pid : pids_) ::kill(pid, SIGTERM);
  while (!pids_.empty()) {
    pollfd fds[2] = {{exit_read_.get(), POLLIN, 0}, {stop_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    for (pid_t pid : reap()) {
      if (on_exit) on_exit(pid);
    }
    if (fds[1].revents) return;
  }
}

void ChildProcesses::stop_all() {
  for (pid_t pid : pids_) ::kill(pid, SIGINT);
  auto deadline = std::chrono::steady_clock::now() + kStopGrace;
  while (!pids_.empty() && std::chrono::steady_clock::now() < deadline) {
    pollfd p{exit_read_.get(), POLLIN, 0};
    ::poll(&p, 1, 100);
    reap();
  }
  for (pid_t pid : pids_) {
    spdlog::warn("event=child-killed pid={} grace_s={}", pid, kStopGrace.count());
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  pids_.clear();
}

}  // namespace nm
