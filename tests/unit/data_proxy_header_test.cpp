// The rule for passive data connections under --proxy-protocol-data: a trusted balancer, a header
// of an accepted version naming the control connection's client; the bytes after it kept. Every
// header is fed whole and byte by byte (the two must agree).
#include "server/data_proxy_header.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <string>

#include "net/cidr.hpp"
#include "session/metrics.hpp"

namespace nm {
namespace {

using State = DataProxyHeader::State;
using Proxy = ServerOptions::ProxyProtocol;

std::string v2(uint8_t command, const char* source, std::string tail = "") {
  std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
  h += static_cast<char>(0x20 | command);
  h += static_cast<char>(command == 0 ? 0x00 : 0x11);
  std::string body;
  if (command != 0) {
    in_addr a{}, b{};
    inet_pton(AF_INET, source, &a);
    inet_pton(AF_INET, "127.0.0.1", &b);
    body.append(reinterpret_cast<const char*>(&a), 4);
    body.append(reinterpret_cast<const char*>(&b), 4);
    body += std::string("\x9c\x40\x75\x30", 4);  // ports 40000, 30000
  }
  h += static_cast<char>(body.size() >> 8);
  h += static_cast<char>(body.size() & 0xff);
  return h + body + tail;
}

std::string v1(const char* source, std::string tail = "") {
  return std::string("PROXY TCP4 ") + source + " 127.0.0.1 40001 30000\r\n" + tail;
}

class DataProxyHeaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::off);
    options.proxy_protocol = Proxy::kAny;
    options.proxy_trusted = *Cidr::parse_list("127.0.0.1/32,127.0.0.2/32");
  }

  struct Outcome {
    State state;
    std::string reason;
    std::string rest;
  };

  // One candidate from `from` sending `bytes`, whole or a byte at a time.
  Outcome run(const std::string& bytes, bool byte_by_byte, const char* from = "127.0.0.1:5000") {
    DataProxyHeader header(options, client, 7);
    if (!header.admit(*Address::parse(from))) return {header.state(), header.reason(), ""};
    State state = State::kNeedMore;
    if (byte_by_byte) {
      std::string rest;
      for (char c : bytes) {
        // Once decided, what follows is the data stream's: as a driver would, keep it apart.
        if (state != State::kNeedMore) {
          rest += c;
          continue;
        }
        state = header.feed(std::string_view(&c, 1));
      }
      EXPECT_EQ(header.take_rest(), "");  // one byte at a time: nothing came after the header
      if (state != State::kAccepted) rest.clear();  // a refused candidate's bytes go nowhere
      return {state, header.reason(), rest};
    }
    state = header.feed(bytes);
    return {state, header.reason(), header.take_rest()};
  }

  // Both ways, which must agree.
  Outcome check(const std::string& bytes, const char* from = "127.0.0.1:5000") {
    auto whole = run(bytes, false, from);
    auto split = run(bytes, true, from);
    EXPECT_EQ(whole.state, split.state);
    EXPECT_EQ(whole.reason, split.reason);
    EXPECT_EQ(whole.rest, split.rest);
    return whole;
  }

  ServerOptions options;
  Address client = *Address::parse("127.0.0.10:12345");
};

TEST_F(DataProxyHeaderTest, TheSameClientIsAccepted) {
  EXPECT_EQ(check(v1("127.0.0.10")).state, State::kAccepted);
  EXPECT_EQ(check(v2(1, "127.0.0.10")).state, State::kAccepted);
  // From another balancer of the farm: the header, not the transport, says whose it is.
  EXPECT_EQ(check(v2(1, "127.0.0.10"), "127.0.0.2:6000").state, State::kAccepted);
}

TEST_F(DataProxyHeaderTest, AnotherClientIsRefused) {
  for (const auto& header : {v1("127.0.0.11"), v2(1, "127.0.0.11")}) {
    auto o = check(header);
    EXPECT_EQ(o.state, State::kRefused);
    EXPECT_EQ(o.reason, "other-client");
  }
}

TEST_F(DataProxyHeaderTest, AnUntrustedSourceIsRefusedBeforeAnyByte) {
  DataProxyHeader header(options, client, 7);
  EXPECT_FALSE(header.admit(*Address::parse("127.0.0.10:5000")));
  EXPECT_EQ(header.state(), State::kRefused);
  EXPECT_STREQ(header.reason(), "untrusted");
  // Nothing it sends is read.
  EXPECT_EQ(header.feed(v1("127.0.0.10")), State::kRefused);
}

TEST_F(DataProxyHeaderTest, LocalIsRefused) {
  auto o = check(v2(0, nullptr));
  EXPECT_EQ(o.state, State::kRefused);
  EXPECT_EQ(o.reason, "local");
  EXPECT_EQ(check("PROXY UNKNOWN\r\n").reason, "local");
}

TEST_F(DataProxyHeaderTest, MissingMalformedAndWrongVersionAreRefused) {
  EXPECT_EQ(check("STOR bytes without a header").reason, "bad-signature");
  EXPECT_EQ(check(std::string("\x16\x03\x01\x02\x00", 5)).reason, "bad-signature");  // a TLS hello
  EXPECT_EQ(check("PROXY TCP4 127.0.0.10 nonsense\r\n").state, State::kRefused);
  options.proxy_protocol = Proxy::kV2;
  EXPECT_EQ(check(v1("127.0.0.10")).state, State::kRefused);
  EXPECT_EQ(check(v2(1, "127.0.0.10")).state, State::kAccepted);
}

TEST_F(DataProxyHeaderTest, TrailingBytesAreKept) {
  std::string data("\x16\x03\x01 the first bytes of the stream\0\r\n", 36);
  for (const auto& header : {v1("127.0.0.10", data), v2(1, "127.0.0.10", data)}) {
    auto o = check(header);
    EXPECT_EQ(o.state, State::kAccepted);
    EXPECT_EQ(o.rest, data);
  }
}

TEST_F(DataProxyHeaderTest, EndTimeoutAndTheNextCandidate) {
  DataProxyHeader header(options, client, 7);
  auto t0 = DataProxyHeader::Clock::now();
  ASSERT_TRUE(header.admit(*Address::parse("127.0.0.1:5000"), t0));
  EXPECT_EQ(header.deadline(), t0 + options.proxy_timeout);
  EXPECT_EQ(header.feed("PROXY TCP4 127.0.0.10"), State::kNeedMore);
  EXPECT_EQ(header.ended(), State::kRefused);
  EXPECT_STREQ(header.reason(), "eof");
  // A candidate that stalls is cut; the one after it starts afresh.
  ASSERT_TRUE(header.admit(*Address::parse("127.0.0.1:5001"), t0));
  EXPECT_EQ(header.feed("PRO"), State::kNeedMore);
  EXPECT_EQ(header.expire(), State::kRefused);
  EXPECT_STREQ(header.reason(), "timeout");
  ASSERT_TRUE(header.admit(*Address::parse("127.0.0.1:5002"), t0));
  EXPECT_EQ(header.feed(v1("127.0.0.10", "x")), State::kAccepted);
  EXPECT_EQ(header.take_rest(), "x");
  // Decided: nothing more changes it.
  EXPECT_EQ(header.expire(), State::kAccepted);
}

TEST_F(DataProxyHeaderTest, EveryRefusedCandidateIsCountedOnce) {
  auto before = metric_value(Metric::kDataRefusedProxyHeader);
  DataProxyHeader header(options, client, 7);
  EXPECT_FALSE(header.admit(*Address::parse("127.0.0.10:5000")));  // untrusted
  EXPECT_EQ(header.feed(v1("127.0.0.10")), State::kRefused);       // still that one
  ASSERT_TRUE(header.admit(*Address::parse("127.0.0.1:5001")));
  EXPECT_EQ(header.feed(v1("127.0.0.11")), State::kRefused);  // another client
  EXPECT_EQ(header.ended(), State::kRefused);
  ASSERT_TRUE(header.admit(*Address::parse("127.0.0.1:5002")));
  EXPECT_EQ(header.feed(v1("127.0.0.10")), State::kAccepted);
  EXPECT_EQ(metric_value(Metric::kDataRefusedProxyHeader), before + 2);
}

}  // namespace
}  // namespace nm
