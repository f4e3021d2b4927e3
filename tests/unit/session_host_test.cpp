// SessionHost, the connection policy every driver shares, driven with a scripted session and a
// fake driver: no sockets, no threads, and the clock passed in by hand.
#include "server/session_host.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <deque>
#include <string>
#include <vector>

namespace nm {
namespace {

using std::chrono::milliseconds;
using Clock = SessionHost::Clock;
using Next = SessionHost::Next;
using Status = TransferResult::Status;

// A session that answers nothing by itself: the test queues its requests and reads its log.
class ScriptedSession final : public Session {
 public:
  void start(Buffer& out) override { out.append("hello\n"); }
  void receive(std::string_view bytes, Buffer& out) override {
    input += bytes;
    // `lines`: a line is partial until its LF, as a line-framed protocol buffers it.
    if (lines) partial = !input.empty() && input.back() != '\n';
    log.push_back("receive:" + std::string(bytes));
    if (echo) out.append(bytes);
  }
  void timed_out(Buffer& out) override {
    log.push_back("timed_out");
    out.append("bye\n");
    done_ = true;
  }
  bool done() const override { return done_; }
  bool partial_input() const override { return partial; }
  bool logged_in() const override { return logged; }
  std::optional<DataRequest> take_request() override {
    if (requests.empty()) return std::nullopt;
    DataRequest r = std::move(requests.front());
    requests.pop_front();
    return r;
  }
  void passive_opened(const PassiveResult& result, Buffer&) override {
    log.push_back(result.ok ? "passive:ok" : "passive:fail");
  }
  void transfer_finished(const TransferResult& result, Buffer&) override {
    finished.push_back(result.status);
  }
  void delay_elapsed(Buffer&) override { log.push_back("delay_elapsed"); }
  void work_done(Buffer&) override { log.push_back("work_done"); }

  std::deque<DataRequest> requests;
  std::vector<std::string> log;
  std::vector<Status> finished;
  std::string input;
  bool echo = false;
  bool done_ = false;
  bool partial = false;
  bool lines = false;
  bool logged = true;
};

class ScriptedService final : public Service {
 public:
  std::string_view name() const override { return "scripted"; }
  std::unique_ptr<Session> open(const ConnectionInfo& info) override {
    ids.push_back(info.id);
    auto s = std::make_unique<ScriptedSession>();
    last = s.get();
    return s;
  }
  ScriptedSession* last = nullptr;
  std::vector<uint64_t> ids;
};

// Records what the host asked for; the test plays the I/O's answers.
class FakeDriver final : public SessionHost::Driver {
 public:
  PassiveResult open_passive(const PassiveRequest&) override {
    ++passives;
    PassiveResult r;
    r.ok = true;
    return r;
  }
  void close_passive() override { ++closed_passives; }
  void start_transfer(TransferRequest) override { ++transfers; }
  void stop_transfer(Status status) override { stops.push_back(status); }
  void start_delay(milliseconds duration) override { delays.push_back(duration); }
  void run_work(std::function<void()> job) override { jobs.push_back(std::move(job)); }

  int passives = 0;
  int closed_passives = 0;
  int transfers = 0;
  std::vector<Status> stops;
  std::vector<milliseconds> delays;
  std::vector<std::function<void()>> jobs;
};

class SessionHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::off);
    context.service = &service;
    context.options.idle_timeout = std::chrono::seconds(10);
    context.options.data_timeout = std::chrono::seconds(5);
  }
  SessionHost& open() {
    host = std::make_unique<SessionHost>(driver, context);
    host->open(*Address::from("127.0.0.1", 21), *Address::from("127.0.0.1", 40000));
    session = service.last;
    return *host;
  }
  std::string drain_output() {
    std::string s(host->output().view());
    host->output().clear();
    return s;
  }

  ScriptedService service;
  ServerContext context;
  FakeDriver driver;
  std::unique_ptr<SessionHost> host;
  ScriptedSession* session = nullptr;
};

TEST_F(SessionHostTest, GreetsAndRunsRequestsInOrder) {
  auto& h = open();
  EXPECT_EQ(drain_output(), "hello\n");
  session->requests.push_back(PassiveRequest{});
  session->requests.push_back(TransferRequest{});
  h.received("LIST\r\n");
  EXPECT_EQ(driver.passives, 1);
  EXPECT_EQ(driver.transfers, 1);
  ASSERT_EQ(session->log.size(), 2u);
  EXPECT_EQ(session->log[0], "receive:LIST\r\n");
  EXPECT_EQ(session->log[1], "passive:ok");
  EXPECT_TRUE(h.transfer_active());
  h.transfer_finished({Status::kOk, 10, 0});
  EXPECT_FALSE(h.transfer_active());
  EXPECT_EQ(session->finished, std::vector<Status>{Status::kOk});
}

TEST_F(SessionHostTest, ASecondTransferWhileOneRunsIsRefusedNotStarted) {
  auto& h = open();
  session->requests.push_back(TransferRequest{});
  session->requests.push_back(TransferRequest{});
  h.received("x");
  EXPECT_EQ(driver.transfers, 1);
  EXPECT_EQ(session->finished, std::vector<Status>{Status::kNoConnection});
  EXPECT_TRUE(h.transfer_active());
}

TEST_F(SessionHostTest, AbortStopsATransferOrClosesTheListener) {
  auto& h = open();
  session->requests.push_back(AbortRequest{});
  h.received("ABOR\r\n");
  EXPECT_EQ(driver.closed_passives, 1);
  EXPECT_TRUE(driver.stops.empty());

  session->requests.push_back(TransferRequest{});
  h.received("RETR f\r\n");
  session->requests.push_back(ClosePassiveRequest{});  // a running transfer keeps its socket
  session->requests.push_back(AbortRequest{});
  session->requests.push_back(AbortRequest{});  // asked once, however often ABOR comes
  h.received("ABOR\r\n");
  EXPECT_EQ(driver.closed_passives, 1);
  EXPECT_EQ(driver.stops, std::vector<Status>{Status::kAborted});
  h.transfer_finished({Status::kAborted, 0, 0});
  EXPECT_EQ(session->finished, std::vector<Status>{Status::kAborted});
}

TEST_F(SessionHostTest, InputDuringADelayIsHeldThenDeliveredInOrder) {
  auto& h = open();
  session->requests.push_back(DelayRequest{milliseconds(1000)});
  session->requests.push_back(PassiveRequest{});  // waits for the delay's end
  h.received("PASS x\r\n");
  ASSERT_EQ(driver.delays.size(), 1u);
  EXPECT_EQ(driver.delays[0], milliseconds(1000));
  EXPECT_FALSE(h.wants_input());
  EXPECT_EQ(driver.passives, 0);
  h.received("USER a\r\n");  // already under way when the driver stopped reading
  EXPECT_EQ(session->input, "PASS x\r\n");
  h.delay_elapsed();
  EXPECT_TRUE(h.wants_input());
  EXPECT_EQ(driver.passives, 1);
  EXPECT_EQ(session->input, "PASS x\r\nUSER a\r\n");
  ASSERT_GE(session->log.size(), 3u);
  EXPECT_EQ(session->log[1], "delay_elapsed");
  EXPECT_EQ(session->log[2], "receive:USER a\r\n");
}

TEST_F(SessionHostTest, StopsReadingPastTheHighWaterMarkUntilBelowTheLow) {
  auto& h = open();
  session->echo = true;
  drain_output();
  h.received(std::string(SessionHost::kHighWater, 'x'));
  EXPECT_FALSE(h.wants_input());
  h.output().consume(SessionHost::kHighWater - SessionHost::kLowWater - 1);
  EXPECT_FALSE(h.wants_input()) << "still above the low-water mark";
  h.output().consume(1);
  EXPECT_TRUE(h.wants_input());
  // Bytes the driver holds in flight count as unsent too.
  EXPECT_FALSE(h.wants_input(SessionHost::kHighWater));
}

TEST_F(SessionHostTest, IdleTimeOutSaysLastWordsThenGivesUpOnAPeerThatDoesNotRead) {
  auto& h = open();
  auto start = Clock::now();
  EXPECT_LE(h.deadline(), start + std::chrono::seconds(10));
  h.tick(start + std::chrono::seconds(5));
  EXPECT_EQ(h.next(), Next::kServe);
  h.tick(start + std::chrono::seconds(11));
  EXPECT_EQ(session->log.back(), "timed_out");
  EXPECT_EQ(h.next(), Next::kCloseWhenSent);
  EXPECT_FALSE(h.wants_input());
  auto now = start + std::chrono::seconds(11);
  EXPECT_EQ(h.deadline(), now + SessionHost::kDrainGrace);
  h.tick(now + SessionHost::kDrainGrace);
  EXPECT_EQ(h.next(), Next::kCloseNow);
}

TEST_F(SessionHostTest, ARunningTransferIsActivityButAStalledOneTimesOut) {
  auto& h = open();
  session->requests.push_back(TransferRequest{});
  h.received("RETR f\r\n");
  auto start = Clock::now();
  h.tick(start + std::chrono::seconds(4));
  h.data_progress();
  h.tick(Clock::now() + std::chrono::seconds(4));
  EXPECT_TRUE(driver.stops.empty());
  EXPECT_EQ(h.next(), Next::kServe) << "no idle time-out during a transfer";
  h.tick(Clock::now() + std::chrono::seconds(6));
  EXPECT_EQ(driver.stops, std::vector<Status>{Status::kTimeout});
  h.tick(Clock::now() + std::chrono::seconds(20));
  EXPECT_EQ(driver.stops.size(), 1u) << "asked once";
  h.transfer_finished({Status::kTimeout, 0, 0});
  EXPECT_EQ(h.next(), Next::kServe) << "the idle clock starts again at the transfer's end";
}

TEST_F(SessionHostTest, EndOfInputClosesAfterOutputButAtOnceDuringATransfer) {
  auto& h = open();
  h.input_ended();
  EXPECT_EQ(h.next(), Next::kCloseWhenSent);

  auto& g = open();
  session->requests.push_back(TransferRequest{});
  g.received("RETR f\r\n");
  g.input_ended();
  EXPECT_EQ(g.next(), Next::kCloseNow);
}

TEST_F(SessionHostTest, WorkRunsThroughTheDriverAndIsAnsweredOnce) {
  auto& h = open();
  int ran = 0;
  session->requests.push_back(WorkRequest{[&ran] { ++ran; }});
  h.received("PASS x\r\n");
  ASSERT_EQ(driver.jobs.size(), 1u);
  EXPECT_TRUE(h.work_pending());
  driver.jobs[0]();
  h.work_done();
  h.work_done();  // a stray second answer is ignored
  EXPECT_EQ(ran, 1);
  EXPECT_FALSE(h.work_pending());
  EXPECT_EQ(std::count(session->log.begin(), session->log.end(), "work_done"), 1);
}

TEST_F(SessionHostTest, ADoneSessionsQueuedRequestsAreNotRun) {
  auto& h = open();
  drain_output();
  // A session that ends (FTP's 421 for a flood) with requests still queued: none of them runs.
  session->requests.push_back(PassiveRequest{});
  session->requests.push_back(TransferRequest{});
  session->done_ = true;
  h.received("flood\r\n");
  EXPECT_EQ(driver.passives, 0);
  EXPECT_EQ(driver.transfers, 0);
  EXPECT_EQ(h.next(), Next::kCloseWhenSent);
}

TEST_F(SessionHostTest, ASessionThatEndsDuringATransferStopsIt) {
  auto& h = open();
  session->requests.push_back(TransferRequest{});
  h.received("RETR\r\n");
  ASSERT_TRUE(h.transfer_active());
  session->done_ = true;
  h.received("flood\r\n");
  EXPECT_EQ(driver.stops, std::vector<Status>{Status::kAborted});
  h.transfer_finished({Status::kAborted, 0, 0});
  EXPECT_EQ(h.next(), Next::kCloseWhenSent);
}

TEST_F(SessionHostTest, CommandTimeOutCountsFromTheLinesFirstByte) {
  context.options.command_timeout = std::chrono::seconds(3);
  auto& h = open();
  drain_output();
  auto start = Clock::now();
  session->lines = true;
  h.received("N");
  EXPECT_LE(h.deadline(), start + std::chrono::seconds(4));
  // One byte a second keeps the idle clock young, but not the command's.
  h.tick(start + std::chrono::seconds(2));
  h.received("O");
  EXPECT_EQ(h.next(), Next::kServe);
  h.tick(start + std::chrono::milliseconds(3500));
  EXPECT_EQ(h.next(), Next::kCloseWhenSent);
  EXPECT_EQ(drain_output(), "bye\n");
}

TEST_F(SessionHostTest, ACompletedLineRestartsTheCommandClock) {
  context.options.command_timeout = std::chrono::seconds(3);
  auto& h = open();
  session->lines = true;
  h.received("NO");
  h.received("OP\r\n");
  EXPECT_GT(h.deadline(), Clock::now() + std::chrono::seconds(5)) << "only the idle time-out";
  h.tick(Clock::now() + std::chrono::seconds(4));
  EXPECT_EQ(h.next(), Next::kServe);
}

TEST_F(SessionHostTest, LoginTimeOutCountsFromConnect) {
  context.options.login_timeout = std::chrono::seconds(5);
  context.options.idle_timeout = std::chrono::seconds(60);
  auto& h = open();
  auto start = Clock::now();
  session->logged = false;
  EXPECT_LE(h.deadline(), start + std::chrono::seconds(6));
  h.tick(start + std::chrono::seconds(3));
  h.received("NOOP\r\n");
  EXPECT_EQ(h.next(), Next::kServe);
  h.tick(start + std::chrono::seconds(6));
  EXPECT_EQ(h.next(), Next::kCloseWhenSent);
}

TEST_F(SessionHostTest, ALoggedInSessionHasNoLoginTimeOut) {
  context.options.login_timeout = std::chrono::seconds(5);
  context.options.idle_timeout = std::chrono::seconds(60);
  auto& h = open();
  session->logged = true;
  h.tick(Clock::now() + std::chrono::seconds(6));
  EXPECT_EQ(h.next(), Next::kServe);
}

TEST_F(SessionHostTest, EveryConnectionGetsItsOwnId) {
  open();
  open();
  ASSERT_EQ(service.ids.size(), 2u);
  EXPECT_LT(service.ids[0], service.ids[1]);
}

}  // namespace
}  // namespace nm
