#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

#include "net/socket.hpp"
#include "transfer/data_listener.hpp"
#include "uring/ring.hpp"
#include "uring/transfer.hpp"

// The io_uring data channel over loopback: what the FTP session asks for, without the FTP
// session.

namespace nm::uring {
namespace {

using Status = TransferResult::Status;
using namespace std::chrono_literals;

class UringTransfer : public ::testing::Test {
 protected:
  void SetUp() override {
    try {
      ring_.emplace(64);
    } catch (const std::runtime_error& e) {
      GTEST_SKIP() << e.what();
    }
  }

  // A file holding `content`, its offset at the start.
  static Fd temp_file(const std::string& content) {
    char name[] = "/tmp/uring_transfer_XXXXXX";
    Fd fd(::mkstemp(name));
    ::unlink(name);
    if (!content.empty()) {
      EXPECT_EQ(::write(fd.get(), content.data(), content.size()),
                static_cast<ssize_t>(content.size()));
    }
    ::lseek(fd.get(), 0, SEEK_SET);
    return fd;
  }
  static std::string read_back(int fd) {
    std::string all;
    char chunk[65536];
    ssize_t n;
    off_t at = 0;
    while ((n = ::pread(fd, chunk, sizeof chunk, at)) > 0) {
      all.append(chunk, static_cast<size_t>(n));
      at += n;
    }
    return all;
  }
  static Address loopback(const char* host = "127.0.0.1") { return *Address::from(host, 0); }

  Fd passive(Address* bound) {
    PassiveRequest request{loopback(), 0, 0};
    PassiveResult result;
    Fd fd = open_passive_listener(request, &result);
    EXPECT_TRUE(result.ok);
    *bound = result.bound;
    return fd;
  }

  std::unique_ptr<Transfer> make(TransferRequest request, Fd listener,
                                 std::chrono::milliseconds timeout = 5000ms) {
    auto transfer = std::make_unique<Transfer>(
        *ring_, std::move(request), std::move(listener), *Address::from("127.0.0.1", 1), timeout,
        [this](const TransferResult& r) { result_ = r; },
        [this] {
          ++settled_;
          idle_when_settled_ = current_->idle();
        });
    current_ = transfer.get();
    return transfer;
  }

  // Runs the ring until the transfer answered and has nothing left in flight.
  void run(Transfer& transfer) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while ((!result_ || !transfer.idle()) && std::chrono::steady_clock::now() < deadline) {
      ring_->run_once(100ms);
    }
    ASSERT_TRUE(result_) << "no answer within 10 s";
    ASSERT_TRUE(transfer.idle());
  }

  static std::string receive_all(int fd) {
    std::string all;
    char chunk[65536];
    ssize_t n;
    // A blocking call here may be interrupted by the kernel's io_uring workers: go on.
    while ((n = ::recv(fd, chunk, sizeof chunk, 0)) > 0 || (n < 0 && errno == EINTR)) {
      if (n > 0) all.append(chunk, static_cast<size_t>(n));
    }
    return all;
  }
  static void send_all(int fd, const std::string& bytes) {
    size_t at = 0;
    while (at < bytes.size()) {
      ssize_t n = ::send(fd, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      at += static_cast<size_t>(n);
    }
  }

  std::optional<Ring> ring_;
  std::optional<TransferResult> result_;
  Transfer* current_ = nullptr;
  int settled_ = 0;
  bool idle_when_settled_ = false;
};

std::string random_bytes(size_t n) {
  std::mt19937 gen(42);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen());
  return s;
}

TEST_F(UringTransfer, SendsABinaryFileFromItsOffset) {
  std::string content = random_bytes(3 * 1024 * 1024 + 17);
  Address bound;
  Fd listener = passive(&bound);
  TransferRequest request;
  request.file = temp_file(content);
  request.offset = 100;
  auto transfer = make(std::move(request), std::move(listener));
  std::string received;
  std::thread client([&] {
    Fd fd = connect_to(bound, false);
    received = receive_all(fd.get());
  });
  transfer->start();
  run(*transfer);
  client.join();
  EXPECT_EQ(result_->status, Status::kOk);
  EXPECT_EQ(result_->bytes, content.size() - 100);
  EXPECT_TRUE(received == content.substr(100));
}

TEST_F(UringTransfer, SendsAListingFromMemoryOverAnActiveConnection) {
  Fd target = listen_on(loopback(), ListenOptions{1, false, false});
  TransferRequest request;
  request.memory = "a.txt\r\nb.txt\r\n";
  request.active_target = local_address(target.get());
  auto transfer = make(std::move(request), Fd());
  transfer->start();
  std::string received;
  std::thread client([&] {
    Fd fd(accept_connection(target.get(), nullptr, false));
    received = receive_all(fd.get());
  });
  run(*transfer);
  client.join();
  EXPECT_EQ(result_->status, Status::kOk);
  EXPECT_EQ(received, "a.txt\r\nb.txt\r\n");
}

TEST_F(UringTransfer, AsciiSendTurnsLfIntoCrlf) {
  Address bound;
  Fd listener = passive(&bound);
  TransferRequest request;
  request.file = temp_file("one\ntwo\r\nthree\n");
  request.ascii = true;
  auto transfer = make(std::move(request), std::move(listener));
  std::string received;
  std::thread client([&] {
    Fd fd = connect_to(bound, false);
    received = receive_all(fd.get());
  });
  transfer->start();
  run(*transfer);
  client.join();
  EXPECT_EQ(result_->status, Status::kOk);
  EXPECT_EQ(received, "one\r\ntwo\r\nthree\r\n");
}

TEST_F(UringTransfer, ReceivesIntoTheFileAtItsPosition) {
  std::string content = random_bytes(2 * 1024 * 1024 + 3);
  Address bound;
  Fd listener = passive(&bound);
  Fd file = temp_file("head");
  ::lseek(file.get(), 0, SEEK_END);
  int raw = ::dup(file.get());
  TransferRequest request;
  request.direction = TransferRequest::Direction::kReceive;
  request.file = std::move(file);
  auto transfer = make(std::move(request), std::move(listener));
  std::thread client([&] {
    Fd fd = connect_to(bound, false);
    send_all(fd.get(), content);
  });
  transfer->start();
  run(*transfer);
  client.join();
  EXPECT_EQ(result_->status, Status::kOk);
  EXPECT_EQ(result_->bytes, content.size());
  EXPECT_TRUE(read_back(raw) == "head" + content);
  ::close(raw);
}

TEST_F(UringTransfer, AsciiReceiveTurnsCrlfIntoLf) {
  Address bound;
  Fd listener = passive(&bound);
  Fd file = temp_file("");
  int raw = ::dup(file.get());
  TransferRequest request;
  request.direction = TransferRequest::Direction::kReceive;
  request.file = std::move(file);
  request.ascii = true;
  auto transfer = make(std::move(request), std::move(listener));
  std::thread client([&] {
    Fd fd = connect_to(bound, false);
    send_all(fd.get(), "a\r\nb\r");
    std::this_thread::sleep_for(20ms);  // a CR at the end of one chunk, its LF in the next
    send_all(fd.get(), "\nlone\rcr\r");
  });
  transfer->start();
  run(*transfer);
  client.join();
  EXPECT_EQ(result_->status, Status::kOk);
  EXPECT_EQ(read_back(raw), "a\nb\nlone\rcr\r");
  ::close(raw);
}

TEST_F(UringTransfer, AbortStopsARunningTransfer) {
  Address bound;
  Fd listener = passive(&bound);
  TransferRequest request;
  request.direction = TransferRequest::Direction::kReceive;
  request.file = temp_file("");
  auto transfer = make(std::move(request), std::move(listener));
  Fd client = connect_to(bound, false);
  transfer->start();
  // Let the accept and the first recv reach the kernel, then abort while the recv waits.
  for (int i = 0; i < 5; ++i) ring_->run_once(20ms);
  ASSERT_FALSE(result_);
  transfer->stop(Status::kAborted);
  run(*transfer);
  EXPECT_EQ(result_->status, Status::kAborted);
  // The data connection was cut.
  EXPECT_EQ(receive_all(client.get()), "");
  // The cancelled recv and timer ended after the answer: the owner heard of each, and by the
  // last the transfer could be freed (the uring model frees a connection only on such news).
  EXPECT_GE(settled_, 2);
  EXPECT_TRUE(idle_when_settled_);
}

TEST_F(UringTransfer, StalledConnectionTimesOut) {
  Address bound;
  Fd listener = passive(&bound);
  TransferRequest request;
  request.file = temp_file("never sent");
  auto transfer = make(std::move(request), std::move(listener), 150ms);
  auto started = std::chrono::steady_clock::now();
  transfer->start();
  run(*transfer);
  EXPECT_EQ(result_->status, Status::kTimeout);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 140ms);
}

TEST_F(UringTransfer, DataConnectionFromAnotherHostIsRefused) {
  Address bound;
  Fd listener = passive(&bound);
  TransferRequest request;
  request.memory = "secret";
  auto transfer = make(std::move(request), std::move(listener));
  transfer->start();
  // 127.0.0.2 is another host as far as the control peer 127.0.0.1 is concerned.
  Fd thief(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  Address from = loopback("127.0.0.2");
  ASSERT_EQ(::bind(thief.get(), from.sa(), from.len()), 0);
  ASSERT_EQ(::connect(thief.get(), bound.sa(), bound.len()), 0);
  std::string stolen;
  std::thread thief_reader([&] { stolen = receive_all(thief.get()); });
  for (int i = 0; i < 5; ++i) ring_->run_once(20ms);
  thief_reader.join();
  EXPECT_EQ(stolen, "");
  EXPECT_FALSE(result_);
  std::string received;
  std::thread client([&] {
    Fd fd = connect_to(bound, false);
    received = receive_all(fd.get());
  });
  run(*transfer);
  client.join();
  EXPECT_EQ(result_->status, Status::kOk);
  EXPECT_EQ(received, "secret");
}

TEST_F(UringTransfer, NoListenerAndNoTargetIsNoConnection) {
  TransferRequest request;
  request.memory = "x";
  auto transfer = make(std::move(request), Fd());
  transfer->start();
  run(*transfer);
  EXPECT_EQ(result_->status, Status::kNoConnection);
}

TEST_F(UringTransfer, RefusedActiveConnectIsNoConnection) {
  // A port nobody listens on: bind one, learn it, close it.
  Address target;
  {
    Fd probe = listen_on(loopback(), ListenOptions{1, false, false});
    target = local_address(probe.get());
  }
  TransferRequest request;
  request.memory = "x";
  request.active_target = target;
  auto transfer = make(std::move(request), Fd());
  transfer->start();
  run(*transfer);
  EXPECT_EQ(result_->status, Status::kNoConnection);
  EXPECT_EQ(result_->error, ECONNREFUSED);
}

}  // namespace
}  // namespace nm::uring
