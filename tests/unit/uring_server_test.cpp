#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <stdexcept>
#include <string>
#include <thread>

#include "net/socket.hpp"
#include "uring/ring.hpp"
#include "uring/server.hpp"

// The uring server driving a session's data-channel requests, over loopback, with a scripted
// session standing in for FTP: one command per line, one answer per line.

namespace nm::uring {
namespace {

using namespace std::chrono_literals;

class ScriptSession final : public Session {
 public:
  explicit ScriptSession(int upload_fd) : upload_fd_(upload_fd) {}
  void start(Buffer& out) override { out.append("hello\n"); }
  void receive(std::string_view bytes, Buffer& out) override {
    pending_.append(bytes);
    size_t end;
    while ((end = pending_.find('\n')) != std::string::npos) {
      handle(pending_.substr(0, end), out);
      pending_.erase(0, end + 1);
    }
  }
  bool done() const override { return done_; }
  std::optional<DataRequest> take_request() override {
    if (requests_.empty()) return std::nullopt;
    DataRequest request = std::move(requests_.front());
    requests_.pop_front();
    return request;
  }
  void passive_opened(const PassiveResult& result, Buffer& out) override {
    out.append("port " + std::to_string(result.bound.port()) + "\n");
  }
  void transfer_finished(const TransferResult& result, Buffer& out) override {
    out.append("done " + std::to_string(static_cast<int>(result.status)) + " " +
               std::to_string(result.bytes) + "\n");
  }
  void delay_elapsed(Buffer& out) override { out.append("awake\n"); }

 private:
  void handle(const std::string& line, Buffer& out) {
    if (line == "PASV") {
      requests_.push_back(PassiveRequest{*Address::from("127.0.0.1", 0), 0, 0});
    } else if (line.rfind("SEND ", 0) == 0) {
      TransferRequest request;
      request.memory = line.substr(5);
      requests_.push_back(std::move(request));
    } else if (line == "RECV") {
      TransferRequest request;
      request.direction = TransferRequest::Direction::kReceive;
      request.file = Fd(::dup(upload_fd_));
      requests_.push_back(std::move(request));
    } else if (line == "ABOR") {
      requests_.push_back(AbortRequest{});
    } else if (line.rfind("DELAY ", 0) == 0) {
      requests_.push_back(DelayRequest{std::chrono::milliseconds(std::stoi(line.substr(6)))});
    } else if (line == "QUIT") {
      out.append("bye\n");
      done_ = true;
    } else {
      out.append("echo " + line + "\n");
    }
  }

  int upload_fd_;
  std::string pending_;
  std::deque<DataRequest> requests_;
  bool done_ = false;
};

class ScriptService final : public Service {
 public:
  explicit ScriptService(int upload_fd) : upload_fd_(upload_fd) {}
  std::string_view name() const override { return "script"; }
  std::unique_ptr<Session> open(const ConnectionInfo&) override {
    return std::make_unique<ScriptSession>(upload_fd_);
  }

 private:
  int upload_fd_;
};

class UringServer : public ::testing::Test {
 protected:
  void SetUp() override {
    try {
      Ring probe(1);
    } catch (const std::runtime_error& e) {
      GTEST_SKIP() << e.what();
    }
    char name[] = "/tmp/uring_server_XXXXXX";
    upload_.reset(::mkstemp(name));
    ::unlink(name);
    service_ = std::make_unique<ScriptService>(upload_.get());
    ASSERT_EQ(::pipe2(stop_, O_CLOEXEC), 0);
    context_.listener = listen_on(*Address::from("127.0.0.1", 0), ListenOptions{16, false, false});
    address_ = local_address(context_.listener.get());
    context_.service = service_.get();
    context_.options.data_timeout = 2s;
    context_.stop_fd = stop_[0];
  }
  void start() {
    thread_ = std::thread([this] {
      Server server(context_);
      server.run();
    });
  }
  void TearDown() override {
    if (thread_.joinable()) {
      ASSERT_EQ(::write(stop_[1], "x", 1), 1);
      thread_.join();
    }
    if (stop_[0] >= 0) {
      ::close(stop_[0]);
      ::close(stop_[1]);
    }
  }

  static Fd connect(const Address& address) {
    Fd fd = connect_to(address, false);
    timeval tv{5, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
  }
  // recv(2) that goes on when interrupted: the kernel's io_uring workers may interrupt this
  // thread's blocking calls.
  static ssize_t receive(int fd, char* buffer, size_t size, int flags = 0) {
    ssize_t n;
    do {
      n = ::recv(fd, buffer, size, flags);
    } while (n < 0 && errno == EINTR);
    return n;
  }
  // One line from the control connection, without its LF; "" at EOF or after 5 s.
  static std::string line(int fd) {
    std::string text;
    char c;
    while (receive(fd, &c, 1) == 1 && c != '\n') text += c;
    return text;
  }
  static void say(int fd, const std::string& text) {
    ASSERT_EQ(::send(fd, text.data(), text.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(text.size()));
  }
  Address data_address(const std::string& port_line) {
    EXPECT_EQ(port_line.rfind("port ", 0), 0u) << port_line;
    return *Address::from("127.0.0.1", static_cast<uint16_t>(std::stoi(port_line.substr(5))));
  }

  Fd upload_;
  std::unique_ptr<ScriptService> service_;
  int stop_[2] = {-1, -1};
  ServerContext context_;
  Address address_;
  std::thread thread_;
};

TEST_F(UringServer, PassiveTransferSendsThenReports) {
  start();
  Fd control = connect(address_);
  EXPECT_EQ(line(control.get()), "hello");
  say(control.get(), "PASV\n");
  Address data_at = data_address(line(control.get()));
  say(control.get(), "SEND listing\n");
  Fd data = connect(data_at);
  char buffer[64];
  ssize_t n = receive(data.get(), buffer, sizeof buffer, MSG_WAITALL);
  EXPECT_EQ(std::string(buffer, static_cast<size_t>(std::max<ssize_t>(n, 0))), "listing");
  EXPECT_EQ(line(control.get()), "done 0 7");
  say(control.get(), "QUIT\n");
  EXPECT_EQ(line(control.get()), "bye");
  EXPECT_EQ(receive(control.get(), buffer, 1), 0);  // closed after the last words
}

TEST_F(UringServer, UploadLandsInTheFile) {
  start();
  Fd control = connect(address_);
  line(control.get());
  say(control.get(), "PASV\n");
  Address data_at = data_address(line(control.get()));
  say(control.get(), "RECV\n");
  std::string content(300000, 'u');
  {
    Fd data = connect(data_at);
    say(data.get(), content);
  }
  EXPECT_EQ(line(control.get()), "done 0 300000");
  EXPECT_EQ(::lseek(upload_.get(), 0, SEEK_END), 300000);
}

TEST_F(UringServer, AbortStopsTheTransferAndTheSessionGoesOn) {
  start();
  Fd control = connect(address_);
  line(control.get());
  say(control.get(), "PASV\n");
  Address data_at = data_address(line(control.get()));
  say(control.get(), "RECV\n");
  Fd data = connect(data_at);
  say(data.get(), "partial");
  std::this_thread::sleep_for(50ms);
  say(control.get(), "ABOR\n");
  EXPECT_EQ(line(control.get()), "done 1 7");  // kAborted, 7 bytes moved
  char c;
  EXPECT_LE(receive(data.get(), &c, 1), 0);
  say(control.get(), "ping\n");
  EXPECT_EQ(line(control.get()), "echo ping");
}

TEST_F(UringServer, StalledTransferTimesOut) {
  context_.options.data_timeout = 200ms;
  start();
  Fd control = connect(address_);
  line(control.get());
  say(control.get(), "PASV\n");
  line(control.get());
  say(control.get(), "RECV\n");
  EXPECT_EQ(line(control.get()), "done 4 0");  // kTimeout: nobody connected
}

TEST_F(UringServer, DelayHoldsTheSessionsInput) {
  start();
  Fd control = connect(address_);
  line(control.get());
  auto started = std::chrono::steady_clock::now();
  say(control.get(), "DELAY 300\n");
  std::this_thread::sleep_for(50ms);
  say(control.get(), "ping\n");
  EXPECT_EQ(line(control.get()), "awake");
  EXPECT_EQ(line(control.get()), "echo ping");
  EXPECT_GE(std::chrono::steady_clock::now() - started, 290ms);
}

TEST_F(UringServer, StopsWithATransferRunning) {
  start();
  Fd control = connect(address_);
  line(control.get());
  say(control.get(), "PASV\n");
  Address data_at = data_address(line(control.get()));
  say(control.get(), "RECV\n");
  Fd data = connect(data_at);
  std::this_thread::sleep_for(50ms);
  ASSERT_EQ(::write(stop_[1], "x", 1), 1);
  thread_.join();
  char c;
  EXPECT_LE(receive(control.get(), &c, 1), 0);
  EXPECT_LE(receive(data.get(), &c, 1), 0);
}

}  // namespace
}  // namespace nm::uring
