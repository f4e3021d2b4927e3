// The PROXY protocol header reader over the cases of HAProxy's proxy-protocol.txt, each fed
// whole and byte by byte (the two must agree: a header split across reads is the same header).
#include "server/proxy_header.hpp"

#include <gtest/gtest.h>

#include <string>

namespace nm {
namespace {

using Accept = ProxyHeaderParser::Accept;
using State = ProxyHeaderParser::State;

struct Outcome {
  State state = State::kNeedMore;
  ProxyHeaderParser::Header header;
  std::string rest;
  std::string error;
};

Outcome run(std::string_view bytes, Accept accept, bool byte_by_byte) {
  ProxyHeaderParser parser(accept);
  State state = State::kNeedMore;
  if (byte_by_byte) {
    for (char c : bytes) {
      // Once decided, the rest goes to whoever reads next; the parser takes no more.
      if (state != State::kNeedMore) break;
      state = parser.feed(std::string_view(&c, 1));
    }
    if (state == State::kDone) {
      // Bytes after the header that came in later reads are the session's, not the parser's:
      // a byte-by-byte run sees none of them in rest().
      EXPECT_TRUE(parser.rest().empty());
    }
  } else {
    state = parser.feed(bytes);
  }
  EXPECT_EQ(state, parser.state());
  return {state, parser.header(), std::string(parser.rest()), parser.error()};
}

// Both ways; returns the whole-feed outcome after checking the byte-by-byte one agrees.
Outcome parse(std::string_view bytes, Accept accept = Accept::kAny) {
  Outcome whole = run(bytes, accept, false);
  Outcome split = run(bytes, accept, true);
  EXPECT_EQ(whole.state, split.state) << "split and whole disagree";
  EXPECT_EQ(whole.error, split.error);
  EXPECT_EQ(whole.header.local, split.header.local);
  EXPECT_EQ(whole.header.source.to_string(), split.header.source.to_string());
  EXPECT_EQ(whole.header.destination.to_string(), split.header.destination.to_string());
  return whole;
}

std::string v2(uint8_t command, uint8_t family, std::string body) {
  std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
  h += static_cast<char>(0x20 | command);
  h += static_cast<char>(family);
  h += static_cast<char>(body.size() >> 8);
  h += static_cast<char>(body.size() & 0xff);
  return h + body;
}

std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (int b : list) s += static_cast<char>(b);
  return s;
}

const std::string kInet4 = bytes({127, 0, 0, 10, 127, 0, 0, 1, 0x30, 0x39, 0x08, 0x49});

TEST(ProxyHeader, V1Tcp4) {
  auto o = parse("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
  ASSERT_EQ(o.state, State::kDone);
  EXPECT_EQ(o.header.version, 1);
  EXPECT_FALSE(o.header.local);
  EXPECT_EQ(o.header.source.to_string(), "192.168.0.1:56324");
  EXPECT_EQ(o.header.destination.to_string(), "192.168.0.11:443");
  EXPECT_TRUE(o.rest.empty());
}

TEST(ProxyHeader, V1Tcp6) {
  auto o = parse("PROXY TCP6 2001:db8::1 ::1 1 65535\r\n");
  ASSERT_EQ(o.state, State::kDone);
  EXPECT_EQ(o.header.source.to_string(), "[2001:db8::1]:1");
  EXPECT_EQ(o.header.destination.to_string(), "[::1]:65535");
}

TEST(ProxyHeader, V1UnknownUsesSocketAddresses) {
  auto o = parse("PROXY UNKNOWN\r\n");
  ASSERT_EQ(o.state, State::kDone);
  EXPECT_TRUE(o.header.local);
  // The rest of an UNKNOWN line is to be ignored, whatever it holds.
  o = parse("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\nUSER x\r\n");
  ASSERT_EQ(o.state, State::kDone);
  EXPECT_TRUE(o.header.local);
  EXPECT_EQ(o.rest, "USER x\r\n");
}

TEST(ProxyHeader, V1BytesAfterTheHeaderAreKept) {
  auto o = parse("PROXY TCP4 1.2.3.4 5.6.7.8 1000 21\r\nUSER alice\r\nPASS");
  ASSERT_EQ(o.state, State::kDone);
  EXPECT_EQ(o.rest, "USER alice\r\nPASS");
}

TEST(ProxyHeader, V1Malformed) {
  for (const char* bad : {
           "PROXY TCP4 1.2.3.4 5.6.7.8 1000\r\n",       // a field short
           "PROXY TCP4 1.2.3.4 5.6.7.8 1000 21 9\r\n",  // a field too many
           "PROXY TCP4 1.2.3.4  5.6.7.8 1000 21\r\n",   // two spaces
           "PROXY TCP4 1.2.3.4 5.6.7.8 1000 21\n",      // LF without CR
           "PROXY TCP4 1.2.3.4 5.6.7.8 01000 21\r\n",   // leading zero
           "PROXY TCP4 1.2.3.4 5.6.7.8 65536 21\r\n",   // port too big
           "PROXY TCP4 1.2.3.4 5.6.7.8 -1 21\r\n",      // sign
           "PROXY TCP4 ::1 5.6.7.8 1000 21\r\n",        // family mismatch
           "PROXY TCP6 1.2.3.4 ::1 1000 21\r\n",        // family mismatch
           "PROXY TCP4 1.2.3.256 5.6.7.8 1000 21\r\n",  // not an address
           "PROXY UDP4 1.2.3.4 5.6.7.8 1000 21\r\n",    // not a protocol
           "PROXY \r\n",                                // nothing
           "PROXYTCP4 1.2.3.4 5.6.7.8 1000 21\r\n",     // no space
           "proxy TCP4 1.2.3.4 5.6.7.8 1000 21\r\n",    // case
       }) {
    auto o = parse(bad);
    EXPECT_EQ(o.state, State::kFailed) << bad;
    EXPECT_FALSE(o.error.empty()) << bad;
  }
}

TEST(ProxyHeader, V1OversizedWithoutCrlf) {
  std::string line = "PROXY TCP6 " + std::string(200, 'f');
  auto o = parse(line);
  EXPECT_EQ(o.state, State::kFailed);
  EXPECT_EQ(o.error, "oversized");
  // 106 bytes without an end may still end at 107: wait.
  EXPECT_EQ(parse(std::string("PROXY UNKNOWN ") + std::string(92, 'x')).state, State::kNeedMore);
  // The longest line the spec allows (107 bytes with CRLF) is fine; one byte more is not.
  std::string longest = "PROXY UNKNOWN " + std::string(91, 'x') + "\r\n";
  ASSERT_EQ(longest.size(), 107u);
  EXPECT_EQ(parse(longest).state, State::kDone);
  std::string over = "PROXY UNKNOWN " + std::string(92, 'x') + "\r\n";
  EXPECT_EQ(parse(over).error, "oversized");
}

TEST(ProxyHeader, V1Truncated) {
  EXPECT_EQ(parse("PROXY TCP4 1.2.3.4 5.6.").state, State::kNeedMore);
  EXPECT_EQ(parse("PRO").state, State::kNeedMore);
  EXPECT_EQ(parse("").state, State::kNeedMore);
}

TEST(ProxyHeader, V2ProxyInet) {
  auto o = parse(v2(1, 0x11, kInet4) + "USER x\r\n");
  ASSERT_EQ(o.state, State::kDone);
  EXPECT_EQ(o.header.version, 2);
  EXPECT_FALSE(o.header.local);
  EXPECT_EQ(o.header.source.to_string(), "127.0.0.10:12345");
  EXPECT_EQ(o.header.destination.to_string(), "127.0.0.1:2121");
  EXPECT_EQ(o.rest, "USER x\r\n");
}

TEST(ProxyHeader, V2ProxyInet6) {
  std::string body(16, '\0');
  body[0] = 0x20;
  body[1] = 0x01;
  body[2] = 0x0d;
  body[3] = static_cast<char>(0xb8);
  body[15] = 1;
  std::string dst(16, '\0');
  dst[15] = 1;
  auto o = parse(v2(1, 0x21, body + dst + bytes({0, 80, 0, 21})));
  ASSERT_EQ(o.state, State::kDone);
  EXPECT_EQ(o.header.source.to_string(), "[2001:db8::1]:80");
  EXPECT_EQ(o.header.destination.to_string(), "[::1]:21");
}

TEST(ProxyHeader, V2TlvsAreSkipped) {
  // PP2_TYPE_ALPN "ftp" and PP2_TYPE_UNIQUE_ID, after the addresses, inside the length.
  std::string tlvs = bytes({0x01, 0, 3}) + "ftp" + bytes({0x05, 0, 4}) + "abcd";
  auto o = parse(v2(1, 0x11, kInet4 + tlvs) + "rest");
  ASSERT_EQ(o.state, State::kDone);
  EXPECT_EQ(o.header.source.to_string(), "127.0.0.10:12345");
  EXPECT_EQ(o.rest, "rest");
}

TEST(ProxyHeader, V2LocalUsesSocketAddresses) {
  // LOCAL: a health check; whatever addresses it carries are ignored.
  auto o = parse(v2(0, 0x00, ""));
  ASSERT_EQ(o.state, State::kDone);
  EXPECT_TRUE(o.header.local);
  o = parse(v2(0, 0x11, kInet4));
  ASSERT_EQ(o.state, State::kDone);
  EXPECT_TRUE(o.header.local);
}

TEST(ProxyHeader, V2UnspecAndUnixUseSocketAddresses) {
  EXPECT_TRUE(parse(v2(1, 0x00, "")).header.local);
  EXPECT_TRUE(parse(v2(1, 0x31, std::string(216, 'u'))).header.local);
  EXPECT_TRUE(parse(v2(1, 0x12, kInet4)).header.local);  // UDP: no TCP client to name
}

TEST(ProxyHeader, V2Bad) {
  std::string header = v2(1, 0x11, kInet4);
  std::string bad_version = header;
  bad_version[12] = 0x11;
  EXPECT_EQ(parse(bad_version).error, "bad-version");
  std::string bad_command = header;
  bad_command[12] = 0x22;
  EXPECT_EQ(parse(bad_command).error, "bad-command");
  std::string bad_family = header;
  bad_family[13] = 0x41;
  EXPECT_EQ(parse(bad_family).error, "bad-family");
  std::string bad_signature = header;
  bad_signature[6] = 'X';
  EXPECT_EQ(parse(bad_signature).error, "bad-signature");
  // Addresses shorter than the family needs.
  EXPECT_EQ(parse(v2(1, 0x11, kInet4.substr(0, 8))).error, "truncated-addresses");
  EXPECT_EQ(parse(v2(1, 0x21, kInet4)).error, "truncated-addresses");
}

TEST(ProxyHeader, V2Truncated) {
  std::string header = v2(1, 0x11, kInet4);
  for (size_t n = 1; n < header.size(); ++n) {
    EXPECT_EQ(parse(header.substr(0, n)).state, State::kNeedMore) << n;
  }
}

TEST(ProxyHeader, NoHeaderAtAll) {
  EXPECT_EQ(parse("USER anonymous\r\n").error, "bad-signature");
  EXPECT_EQ(parse(bytes({0x16, 0x03, 0x01})).error, "bad-signature");  // a TLS ClientHello
  EXPECT_EQ(parse("GET / HTTP/1.0\r\n").error, "bad-signature");
  // Decided on the first byte that cannot be a header, not at a time-out.
  ProxyHeaderParser parser(Accept::kAny);
  EXPECT_EQ(parser.feed("PROXZ"), State::kFailed);
}

TEST(ProxyHeader, VersionSelection) {
  std::string one = "PROXY TCP4 1.2.3.4 5.6.7.8 1000 21\r\n";
  std::string two = v2(1, 0x11, kInet4);
  EXPECT_EQ(parse(one, Accept::kV1).state, State::kDone);
  EXPECT_EQ(parse(one, Accept::kV2).error, "v1-not-accepted");
  EXPECT_EQ(parse(two, Accept::kV2).state, State::kDone);
  EXPECT_EQ(parse(two, Accept::kV1).error, "v2-not-accepted");
}

TEST(ProxyHeader, NothingMoreAfterTheDecision) {
  ProxyHeaderParser parser(Accept::kAny);
  ASSERT_EQ(parser.feed("PROXY UNKNOWN\r\nA"), State::kDone);
  EXPECT_EQ(parser.feed("B"), State::kDone);
  EXPECT_EQ(parser.rest(), "A");
}

}  // namespace
}  // namespace nm
