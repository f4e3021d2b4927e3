// SessionHost's drain (SIGTERM): idle sessions get their last words and close, a running
// transfer ends first and its reply goes out before them. Kept apart from session_host_test.cpp
// with a session of its own that answers like FTP (226 at a transfer's end, 421 on the drain).
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <deque>
#include <string>

#include "server/session_host.hpp"

namespace nm {
namespace {

using Next = SessionHost::Next;
using Status = TransferResult::Status;

class FtpLikeSession final : public Session {
 public:
  void start(Buffer& out) override { out.append("220\n"); }
  void receive(std::string_view bytes, Buffer& out) override {
    if (bytes == "RETR\n") {
      out.append("150\n");
      requests.push_back(TransferRequest{});
    } else if (bytes == "USER\n") {
      requests.push_back(DelayRequest{std::chrono::milliseconds(1000)});
    } else {
      out.append("200\n");
    }
  }
  void shutting_down(Buffer& out) override {
    out.append("421\n");
    done_ = true;
  }
  bool done() const override { return done_; }
  std::optional<DataRequest> take_request() override {
    if (requests.empty()) return std::nullopt;
    DataRequest r = std::move(requests.front());
    requests.pop_front();
    return r;
  }
  void transfer_finished(const TransferResult&, Buffer& out) override { out.append("226\n"); }
  void delay_elapsed(Buffer& out) override { out.append("530\n"); }

  std::deque<DataRequest> requests;
  bool done_ = false;
};

class FtpLikeService final : public Service {
 public:
  std::string_view name() const override { return "ftp-like"; }
  std::unique_ptr<Session> open(const ConnectionInfo&) override {
    return std::make_unique<FtpLikeSession>();
  }
};

class CountingDriver final : public SessionHost::Driver {
 public:
  PassiveResult open_passive(const PassiveRequest&) override { return {}; }
  void close_passive() override {}
  void start_transfer(TransferRequest) override { ++transfers; }
  void stop_transfer(Status) override { ++stops; }
  void start_delay(std::chrono::milliseconds) override {}
  void run_work(std::function<void()>) override {}
  int transfers = 0;
  int stops = 0;
};

class SessionHostDrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::off);
    context.service = &service;
    host.open(*Address::from("127.0.0.1", 21), *Address::from("127.0.0.1", 40000));
    EXPECT_EQ(take(), "220\n");
  }
  std::string take() {
    std::string s(host.output().view());
    host.output().clear();
    return s;
  }

  FtpLikeService service;
  ServerContext context;
  CountingDriver driver;
  SessionHost host{driver, context};
};

TEST_F(SessionHostDrainTest, AnIdleSessionGets421AndCloses) {
  host.received("NOOP\n");
  EXPECT_EQ(take(), "200\n");
  host.drain();
  EXPECT_EQ(take(), "421\n");
  EXPECT_EQ(host.next(), Next::kCloseWhenSent);
  EXPECT_FALSE(host.wants_input());
  // Idempotent: a second drain (a second driver call) says nothing more.
  host.drain();
  EXPECT_EQ(take(), "");
}

TEST_F(SessionHostDrainTest, ARunningTransferKeepsRunningThenGets226Then421) {
  host.received("RETR\n");
  EXPECT_EQ(take(), "150\n");
  ASSERT_TRUE(host.transfer_active());
  host.drain();
  EXPECT_EQ(take(), "");  // nothing is said over a running transfer
  EXPECT_EQ(driver.stops, 0);
  EXPECT_EQ(host.next(), Next::kServe);
  EXPECT_TRUE(host.wants_input());  // ABOR and STAT are still heard
  host.transfer_finished({Status::kOk, 100, 0});
  EXPECT_EQ(take(), "226\n421\n");
  EXPECT_EQ(host.next(), Next::kCloseWhenSent);
}

TEST_F(SessionHostDrainTest, ADelayedSessionGetsItsAnswerThen421) {
  host.received("USER\n");
  host.drain();
  EXPECT_EQ(take(), "");
  host.delay_elapsed();
  EXPECT_EQ(take(), "530\n421\n");
  EXPECT_EQ(host.next(), Next::kCloseWhenSent);
}

TEST_F(SessionHostDrainTest, ThePeerThatDoesNotReadIsCutAfterTheGrace) {
  host.drain();
  EXPECT_EQ(take(), "421\n");
  auto late = SessionHost::Clock::now() + SessionHost::kDrainGrace + std::chrono::seconds(1);
  EXPECT_LE(host.deadline(), late);
  host.tick(late);
  EXPECT_EQ(host.next(), Next::kCloseNow);
}

}  // namespace
}  // namespace nm
