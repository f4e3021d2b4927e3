// SessionHost with the PROXY protocol on: the header comes first, before any session exists, and
// its client is the session's peer. A scripted session and a fake driver; the clock by hand.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <deque>
#include <string>

#include "net/cidr.hpp"
#include "server/client_limit.hpp"
#include "server/session_host.hpp"

namespace nm {
namespace {

using Next = SessionHost::Next;
using Proxy = ServerOptions::ProxyProtocol;

class GreetingSession final : public Session {
 public:
  void start(Buffer& out) override { out.append("220 hi\r\n"); }
  void receive(std::string_view bytes, Buffer&) override { input += bytes; }
  bool done() const override { return false; }
  std::string input;
};

class GreetingService final : public Service {
 public:
  std::string_view name() const override { return "greeting"; }
  std::unique_ptr<Session> open(const ConnectionInfo& info) override {
    infos.push_back(info);
    auto s = std::make_unique<GreetingSession>();
    last = s.get();
    return s;
  }
  std::string_view refusal() const override { return "421 busy\r\n"; }
  GreetingSession* last = nullptr;
  std::vector<ConnectionInfo> infos;
};

class IdleDriver final : public SessionHost::Driver {
 public:
  PassiveResult open_passive(const PassiveRequest&) override { return {}; }
  void close_passive() override {}
  void start_transfer(TransferRequest) override {}
  void stop_transfer(TransferResult::Status) override {}
  void start_delay(std::chrono::milliseconds) override {}
  void run_work(std::function<void()>) override {}
};

const char* kHeader = "PROXY TCP4 127.0.0.10 127.0.0.1 40000 21\r\n";

class SessionHostProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::off);
    context.service = &service;
    context.options.proxy_protocol = Proxy::kAny;
    context.options.proxy_trusted = *Cidr::parse_list("127.0.0.0/8,::1");
  }
  std::unique_ptr<SessionHost> open(const char* peer = "127.0.0.1") {
    auto host = std::make_unique<SessionHost>(driver, context);
    host->open(*Address::from("127.0.0.1", 21), *Address::from(peer, 50000));
    return host;
  }
  static std::string drain(SessionHost& host) {
    std::string s(host.output().view());
    host.output().clear();
    return s;
  }

  GreetingService service;
  ServerContext context;
  IdleDriver driver;
};

TEST_F(SessionHostProxyTest, NoGreetingBeforeTheHeader) {
  auto host = open();
  EXPECT_EQ(drain(*host), "");
  EXPECT_TRUE(service.infos.empty());
  EXPECT_EQ(host->next(), Next::kServe);
  EXPECT_TRUE(host->wants_input());
  host->received(kHeader);
  EXPECT_EQ(drain(*host), "220 hi\r\n");
  ASSERT_EQ(service.infos.size(), 1u);
  // Two addresses: the client named by the header, and the balancer the bytes came from.
  EXPECT_EQ(service.infos[0].peer.to_string(), "127.0.0.10:40000");
  EXPECT_EQ(service.infos[0].transport_peer.to_string(), "127.0.0.1:50000");
  EXPECT_FALSE(service.infos[0].health_check);
  EXPECT_EQ(host->peer().to_string(), "127.0.0.1:50000");  // what data connections come from
  EXPECT_EQ(host->client().to_string(), "127.0.0.10:40000");
}

TEST_F(SessionHostProxyTest, AHeaderSplitAcrossReads) {
  auto host = open();
  std::string header = kHeader;
  for (char c : header.substr(0, header.size() - 1)) {
    host->received(std::string(1, c));
    EXPECT_EQ(drain(*host), "");
  }
  std::string last = header.substr(header.size() - 1);
  last += "USER a";
  host->received(last);
  EXPECT_EQ(drain(*host), "220 hi\r\n");
  ASSERT_NE(service.last, nullptr);
  EXPECT_EQ(service.last->input, "USER a");
}

TEST_F(SessionHostProxyTest, BytesAfterTheHeaderReachTheSession) {
  auto host = open();
  std::string bytes = kHeader;
  bytes += "USER alice\r\nPASS x\r\n";
  host->received(bytes);
  ASSERT_NE(service.last, nullptr);
  EXPECT_EQ(service.last->input, "USER alice\r\nPASS x\r\n");
  host->received("QUIT\r\n");
  EXPECT_EQ(service.last->input, "USER alice\r\nPASS x\r\nQUIT\r\n");
}

TEST_F(SessionHostProxyTest, ABadHeaderClosesWithoutAWord) {
  for (const char* bad : {"USER anonymous\r\n", "PROXY TCP4 1.2.3.4\r\n", "\x16\x03\x01"}) {
    auto host = open();
    host->received(bad);
    EXPECT_EQ(host->next(), Next::kCloseNow) << bad;
    EXPECT_EQ(drain(*host), "");
    EXPECT_FALSE(host->wants_input());
  }
  EXPECT_TRUE(service.infos.empty());
  // v2 only: a v1 header is as bad as none.
  context.options.proxy_protocol = Proxy::kV2;
  auto host = open();
  host->received(kHeader);
  EXPECT_EQ(host->next(), Next::kCloseNow);
}

TEST_F(SessionHostProxyTest, AnOversizedV1HeaderCloses) {
  auto host = open();
  host->received("PROXY TCP6 " + std::string(100, 'f'));
  EXPECT_EQ(host->next(), Next::kCloseNow);
}

TEST_F(SessionHostProxyTest, AnUntrustedPeerIsClosedAtOnce) {
  auto host = open("10.1.2.3");
  EXPECT_EQ(host->next(), Next::kCloseNow);
  host->received(kHeader);
  EXPECT_TRUE(service.infos.empty());
}

TEST_F(SessionHostProxyTest, TheHeaderMustComeWithinTheTimeout) {
  context.options.proxy_timeout = std::chrono::seconds(3);
  context.options.idle_timeout = std::chrono::seconds(300);
  auto host = open();
  host->received("PROXY TCP4 127.0");  // a slow trickle does not extend it
  auto due = host->deadline();
  EXPECT_LE(due, SessionHost::Clock::now() + std::chrono::seconds(3));
  host->tick(due - std::chrono::milliseconds(1));
  EXPECT_EQ(host->next(), Next::kServe);
  host->tick(due);
  EXPECT_EQ(host->next(), Next::kCloseNow);
  EXPECT_TRUE(service.infos.empty());
}

TEST_F(SessionHostProxyTest, EndOfInputBeforeTheHeaderCloses) {
  auto host = open();
  host->received("PROXY ");
  host->input_ended();
  EXPECT_EQ(host->next(), Next::kCloseNow);
  EXPECT_TRUE(service.infos.empty());
}

TEST_F(SessionHostProxyTest, LocalAndUnknownKeepTheSocketAddresses) {
  auto host = open();
  host->received("PROXY UNKNOWN\r\n");
  ASSERT_EQ(service.infos.size(), 1u);
  EXPECT_EQ(service.infos[0].peer.to_string(), "127.0.0.1:50000");
  EXPECT_TRUE(service.infos[0].health_check);
  std::string local("\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00", 16);
  auto second = open();
  second->received(local);
  ASSERT_EQ(service.infos.size(), 2u);
  EXPECT_EQ(service.infos[1].peer.to_string(), "127.0.0.1:50000");
  EXPECT_TRUE(service.infos[1].health_check);
}

TEST_F(SessionHostProxyTest, MaxPerIpCountsTheHeadersClient) {
  ClientLimit limit(1, 16);
  context.client_limit = &limit;
  auto first = open();
  first->received(kHeader);
  EXPECT_EQ(drain(*first), "220 hi\r\n");
  // Same balancer, same client: refused with the service's line, then closed once it is sent.
  auto second = open();
  second->received(kHeader);
  EXPECT_EQ(drain(*second), "421 busy\r\n");
  EXPECT_EQ(second->next(), Next::kCloseWhenSent);
  // Same balancer, another client: served.
  auto third = open();
  third->received("PROXY TCP4 127.0.0.11 127.0.0.1 40000 21\r\n");
  EXPECT_EQ(drain(*third), "220 hi\r\n");
  // Health checks are not counted against the balancer's own address.
  auto check = open();
  check->received("PROXY UNKNOWN\r\n");
  auto check2 = open();
  check2->received("PROXY UNKNOWN\r\n");
  EXPECT_EQ(drain(*check2), "220 hi\r\n");
  // A session's end gives its count back.
  EXPECT_EQ(limit.count(*Address::from("127.0.0.10", 0)), 1u);
  first.reset();
  EXPECT_EQ(limit.count(*Address::from("127.0.0.10", 0)), 0u);
  auto again = open();
  again->received(kHeader);
  EXPECT_EQ(drain(*again), "220 hi\r\n");
}

TEST(ClientLimit, CountsPerHostAndGivesBackADeadProcesssClaims) {
  ClientLimit limit(2, 4);
  auto a = *Address::from("10.0.0.1", 1);
  auto b = *Address::from("10.0.0.2", 1);
  auto c1 = limit.claim(a);
  auto c2 = limit.claim(a);
  ASSERT_TRUE(c1 && c2);
  EXPECT_FALSE(limit.claim(a));
  auto c3 = limit.claim(b);
  ASSERT_TRUE(c3);
  limit.release(*c1);
  EXPECT_TRUE(limit.claim(a));
  // Capacity: four sessions at once, whoever they are from.
  EXPECT_TRUE(limit.claim(*Address::from("10.0.0.3", 1)));
  EXPECT_FALSE(limit.claim(*Address::from("10.0.0.4", 1)));
  limit.release_process(::getpid());
  EXPECT_EQ(limit.count(a), 0u);
  EXPECT_EQ(limit.count(b), 0u);
}

TEST(Cidr, ParsesAndMatches) {
  auto list = Cidr::parse_list("10.0.0.0/8, 192.168.1.7,::1,2001:db8::/32");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 4u);
  EXPECT_TRUE(any_contains(*list, *Address::from("10.200.3.4", 1)));
  EXPECT_FALSE(any_contains(*list, *Address::from("11.0.0.1", 1)));
  EXPECT_TRUE(any_contains(*list, *Address::from("192.168.1.7", 1)));
  EXPECT_FALSE(any_contains(*list, *Address::from("192.168.1.8", 1)));
  EXPECT_TRUE(any_contains(*list, *Address::from("::1", 1)));
  EXPECT_TRUE(any_contains(*list, *Address::from("2001:db8:ffff::1", 1)));
  EXPECT_FALSE(any_contains(*list, *Address::from("2001:db9::1", 1)));
  // A v4 network holds the v4-mapped form a dual-stack listener reports.
  EXPECT_TRUE(any_contains(*list, *Address::from("::ffff:10.1.1.1", 1)));
  auto odd = Cidr::parse("10.0.0.0/12");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains(*Address::from("10.15.255.255", 1)));
  EXPECT_FALSE(odd->contains(*Address::from("10.16.0.0", 1)));
  for (const char* bad : {"", "10.0.0.0/33", "::1/129", "host", "10.0.0.0/", "10.0.0.0/8x"}) {
    EXPECT_FALSE(Cidr::parse(bad)) << bad;
  }
  EXPECT_FALSE(Cidr::parse_list("10.0.0.0/8,,::1"));
}

}  // namespace
}  // namespace nm
