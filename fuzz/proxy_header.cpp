// The PROXY protocol header reader (server/proxy_header.hpp): what a balancer, or anyone who can
// reach the port, sends first.
//
// Input: the connection's first bytes, with decisions taken off its back (fuzz_support.hpp): the
// versions accepted (last byte % 3: any, v1, v2), then up to eight chunk sizes (a 0 ends them),
// so a seed is its bytes followed by "\0\0". The bytes are parsed whole and in
// those chunks, feeding until the parser decides, as SessionHost does. Checks: both ways reach
// the same state, error and addresses; a finished header leaves exactly the bytes after it (the
// header plus what the parser kept, followed by the unread chunks, is the input again); a v1
// header never takes more than 107 bytes; a header with addresses names an IPv4 or IPv6 client.

#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "server/proxy_header.hpp"

namespace {

using nm::ProxyHeaderParser;
using nm::fuzz::printable;
using State = ProxyHeaderParser::State;

struct Outcome {
  State state = State::kNeedMore;
  std::string error;
  std::string source, destination;
  bool local = false;
  int version = 0;
  std::string after;  // kDone: what the parser kept plus the chunks it was not fed
};

Outcome parse(std::string_view stream, ProxyHeaderParser::Accept accept,
              const std::vector<size_t>& cuts) {
  ProxyHeaderParser parser(accept);
  size_t pos = 0, i = 0;
  State state = State::kNeedMore;
  while (state == State::kNeedMore && pos < stream.size()) {
    size_t n = cuts.empty() ? stream.size() : cuts[i++ % cuts.size()];
    n = std::min(n, stream.size() - pos);
    state = parser.feed(stream.substr(pos, n));
    pos += n;
  }
  Outcome o{state, parser.error(), {}, {}, false, 0, {}};
  if (state == State::kDone) {
    const auto& h = parser.header();
    o.local = h.local;
    o.version = h.version;
    if (!h.local) {
      NM_FUZZ_CHECK(h.source.is_v4() || h.source.is_v6(), "a client that is not IP: %s",
                    printable(stream).c_str());
      NM_FUZZ_CHECK(h.source.family() == h.destination.family(), "mixed families");
      o.source = h.source.to_string();
      o.destination = h.destination.to_string();
    }
    o.after = std::string(parser.rest()) + std::string(stream.substr(pos));
    NM_FUZZ_CHECK(o.after.size() <= stream.size(), "more bytes after the header than in all");
    size_t header_size = stream.size() - o.after.size();
    NM_FUZZ_CHECK(stream.substr(header_size) == o.after,
                  "the bytes after the header are not the input's tail: %s",
                  printable(stream).c_str());
    NM_FUZZ_CHECK(h.version != 1 || header_size <= ProxyHeaderParser::kMaxV1,
                  "a v1 header of %zu bytes", header_size);
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nm::fuzz::Input input(data, size);
  static const ProxyHeaderParser::Accept kAccept[] = {ProxyHeaderParser::Accept::kAny,
                                                      ProxyHeaderParser::Accept::kV1,
                                                      ProxyHeaderParser::Accept::kV2};
  auto accept = kAccept[input.decide() % 3];
  std::vector<size_t> cuts;
  while (cuts.size() < 8) {
    uint8_t d = input.decide();
    if (d == 0) break;
    cuts.push_back(d);
  }
  std::string stream(input.rest());

  Outcome whole = parse(stream, accept, {});
  for (const auto& chunks : {cuts, std::vector<size_t>{1}, std::vector<size_t>{3, 1, 7}}) {
    Outcome split = parse(stream, accept, chunks);
    NM_FUZZ_CHECK(
        split.state == whole.state && split.error == whole.error && split.source == whole.source &&
            split.destination == whole.destination && split.local == whole.local &&
            split.version == whole.version && split.after == whole.after,
        "chunked (%zu sizes) and whole disagree on %s", chunks.size(), printable(stream).c_str());
  }
  return 0;
}
