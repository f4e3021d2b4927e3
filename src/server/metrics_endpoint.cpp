#include "server/metrics_endpoint.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <latch>
#include <string>

namespace nm {
namespace {

constexpr size_t kMaxRequest = 8192;

std::string http(std::string_view status, std::string_view type, std::string_view body) {
  std::string out = "HTTP/1.1 ";
  out += status;
  out += "\r\nContent-Type: ";
  out += type;
  out += "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  out += body;
  return out;
}

// Waits for `fd` to be readable until `deadline`; false on time-out or when `wake` fired.
bool wait_readable(int fd, int wake, std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
  if (left <= 0) return false;
  pollfd fds[2] = {{fd, POLLIN, 0}, {wake, POLLIN, 0}};
  int n = ::poll(fds, 2, static_cast<int>(left));
  return n > 0 && !(fds[1].revents & POLLIN) && fds[0].revents != 0;
}

}  // namespace

std::string metrics_response(std::string_view request, const BuildInfo& build) {
  auto end = request.find("\r\n");
  std::string_view line = request.substr(0, end);
  auto sp1 = line.find(' ');
  auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.substr(sp2 + 1, 5) != "HTTP/") {
    return http("400 Bad Request", "text/plain", "not an HTTP request\n");
  }
  auto method = line.substr(0, sp1);
  auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  if (target != "/metrics") return http("404 Not Found", "text/plain", "try /metrics\n");
  if (method != "GET" && method != "HEAD") {
    return http("405 Method Not Allowed", "text/plain", "GET /metrics\n");
  }
  std::string response =
      http("200 OK", "text/plain; version=0.0.4; charset=utf-8", render_metrics(build));
  if (method == "HEAD") response.resize(response.find("\r\n\r\n") + 4);
  return response;
}

MetricsEndpoint::MetricsEndpoint(Fd listener, BuildInfo build)
    : listener_(std::move(listener)),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      build_(std::move(build)) {
  // Ready by poll is not a promise: a client that reset in between must not block accept().
  ::fcntl(listener_.get(), F_SETFL, ::fcntl(listener_.get(), F_GETFL) | O_NONBLOCK);
}

MetricsEndpoint::~MetricsEndpoint() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_.get(), &one, sizeof one);
    thread_.join();
  }
}

void MetricsEndpoint::start() {
  // Returns once the thread runs its loop: fork and prefork fork their children right after,
  // and a child forked while this thread was still being set up could inherit a lock that the
  // set-up held (ASan's allocator, which g++ 12's runtime does not guard across fork) and hang
  // at its first allocation (seen once: metrics.prefork under ASan, a child that never drained).
  std::latch running(1);
  thread_ = std::thread([this, &running] {
    running.count_down();
    run();
  });
  running.wait();
}

void MetricsEndpoint::run() {
  for (;;) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents & POLLIN) return;
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;  // gone already, or out of descriptors: the next poll tries again
    Fd connection(fd);
    // The answer is a few KiB and fits the socket's buffer, but a peer that never reads must
    // not hold this thread either.
    timeval limit{kRequestTimeoutMs / 1000, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    answer(connection.get());
  }
}

void MetricsEndpoint::answer(int fd) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kRequestTimeoutMs);
  std::string request;
  while (request.find("\r\n\r\n") == std::string::npos) {
    if (request.size() > kMaxRequest || !wait_readable(fd, wake_.get(), deadline)) return;
    char chunk[2048];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n <= 0) {
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      return;
    }
    request.append(chunk, static_cast<size_t>(n));
  }
  std::string response = metrics_response(request, build_);
  std::string_view left = response;
  while (!left.empty()) {
    ssize_t n = ::send(fd, left.data(), left.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;  // a blocking send on a scrape that went away: nothing more to do
    }
    left.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace nm
