#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "net/address.hpp"

namespace nm {

// A PROXY protocol header reader (HAProxy's proxy-protocol.txt, versions 1 and 2), sans-IO: fed
// the first bytes of a connection in whatever pieces they arrive, it says when the header is
// complete, what it names, and hands back the bytes that followed it in the same reads (the
// session's, or the TLS handshake's on the implicit-TLS listener). Owned by one SessionHost;
// called from its thread only.
//
// Theory of operation. The first byte picks the version ('P': v1's "PROXY ", '\r': v2's 12-byte
// signature); anything else, or a version the configuration does not accept, fails at once, so a
// client that speaks first (FTP's USER, a TLS ClientHello) is turned away without waiting. v1 is
// one text line that must end in CRLF within 107 bytes; v2 is a 16-byte fixed part whose last two
// bytes give the length of the rest (addresses, then TLVs, which are skipped). Nothing is
// decided before the header is whole: kNeedMore until then, and the bytes read so far are kept
// (at most 107 for v1, 16 + 65535 for v2). A v1 UNKNOWN line, a v2 LOCAL command, and a v2 PROXY
// with an address family or transport it does not carry (UNSPEC, AF_UNIX) all say "use the
// socket's own addresses" (`local`): balancers send them for health checks.
class ProxyHeaderParser {
 public:
  enum class Accept { kV1, kV2, kAny };
  enum class State { kNeedMore, kDone, kFailed };

  struct Header {
    int version = 0;     // 1 or 2
    bool local = false;  // no addresses given: the connection's own endpoints stand
    Address source;      // the client, when !local
    Address destination;
  };

  // The most a v1 header may take, CRLF included (the spec's 107).
  static constexpr size_t kMaxV1 = 107;

  explicit ProxyHeaderParser(Accept accept) : accept_(accept) {}

  // Appends `bytes` and parses as far as they go. Once kDone or kFailed, further calls change
  // nothing (and keep nothing).
  State feed(std::string_view bytes);
  State state() const { return state_; }
  // kDone: what the header said.
  const Header& header() const { return header_; }
  // kDone: the bytes after the header, in the order they came.
  std::string_view rest() const { return rest_; }
  // kFailed: why, as a short logfmt-safe word ("bad-signature", "oversized", ...).
  const char* error() const { return error_; }

 private:
  State parse();
  State parse_v1();
  State parse_v2();
  State fail(const char* why);
  State done(size_t header_size);

  Accept accept_;
  State state_ = State::kNeedMore;
  std::string buffer_;  // the header so far
  Header header_;
  std::string rest_;
  const char* error_ = "";
};

}  // namespace nm
