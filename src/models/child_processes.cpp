#include "models/child_processes.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <system_error>

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

ChildProcesses::ChildProcesses() {
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

ChildProcesses::~ChildProcesses() {
  stop_all();
  std::signal(SIGCHLD, SIG_DFL);
  ::close(g_exit_write_fd);
  g_exit_write_fd = -1;
}

pid_t ChildProcesses::spawn(const std::function<void()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    restore_default_signals();
    std::signal(SIGCHLD, SIG_DFL);
    exit_read_.reset();
    body();
    ::_exit(0);
  }
  if (pid > 0) pids_.insert(pid);
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

void ChildProcesses::stop_all() {
  for (pid_t pid : pids_) ::kill(pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!pids_.empty() && std::chrono::steady_clock::now() < deadline) {
    pollfd p{exit_read_.get(), POLLIN, 0};
    ::poll(&p, 1, 100);
    reap();
  }
  for (pid_t pid : pids_) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  pids_.clear();
}

}  // namespace nm
