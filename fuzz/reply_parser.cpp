// The client's incremental reply parser (client/ftp_reply.hpp): the same bytes give the same
// replies however the connection splits them.
//
// Input: the control stream, with chunk sizes taken off its back (fuzz_support.hpp). The stream
// is parsed three ways: whole, in the fuzz-chosen chunks (alternating append() and the
// reserve()/commit() path) and in chunks of one to seven bytes, each time calling next() until it
// has nothing more, as the client does after every read. Each way yields the list of replies and
// how it ended (no error, or ProtocolError after that many replies); all three must agree.
// Checks on every reply: a code 100-999 that its first line starts with, and a last line that
// closes it ("CODE" or "CODE text").

#include <cstring>
#include <string>
#include <vector>

#include "client/ftp_reply.hpp"
#include "fuzz_support.hpp"

namespace {

using nm::fuzz::printable;

struct Outcome {
  std::vector<nm::client::Reply> replies;
  bool error = false;
};

void check_reply(const nm::client::Reply& r) {
  NM_FUZZ_CHECK(r.code >= 100 && r.code <= 999 && !r.lines.empty(), "reply code %d", r.code);
  auto code = std::to_string(r.code);
  NM_FUZZ_CHECK(r.lines.front().rfind(code, 0) == 0, "first line '%s' of a %d reply",
                printable(r.lines.front()).c_str(), r.code);
  const auto& last = r.lines.back();
  NM_FUZZ_CHECK(last.rfind(code, 0) == 0 && (last.size() == 3 || last[3] == ' '),
                "last line '%s' does not close a %d reply", printable(last).c_str(), r.code);
}

// Feeds `stream` cut at `cuts` (chunk sizes, cycled); on the way, drains complete replies.
Outcome parse(std::string_view stream, const std::vector<size_t>& cuts, bool use_reserve) {
  nm::client::ReplyParser parser;
  Outcome o;
  size_t pos = 0;
  size_t i = 0;
  try {
    while (pos < stream.size()) {
      size_t n = cuts.empty() ? stream.size() : cuts[i++ % cuts.size()];
      n = std::min(n, stream.size() - pos);
      if (use_reserve && i % 2 == 0) {
        char* p = parser.reserve(n);
        std::memcpy(p, stream.data() + pos, n);
        parser.commit(n);
      } else {
        parser.append(stream.substr(pos, n));
      }
      pos += n;
      while (auto reply = parser.next()) o.replies.push_back(std::move(*reply));
    }
  } catch (const nm::client::ProtocolError&) {
    o.error = true;
  }
  return o;
}

void check_same(const Outcome& a, const Outcome& b, const char* how) {
  NM_FUZZ_CHECK(a.error == b.error && a.replies.size() == b.replies.size(),
                "%s: %zu replies%s, whole: %zu replies%s", how, b.replies.size(),
                b.error ? " then an error" : "", a.replies.size(), a.error ? " then an error" : "");
  for (size_t i = 0; i < a.replies.size(); ++i) {
    NM_FUZZ_CHECK(
        a.replies[i].code == b.replies[i].code && a.replies[i].lines == b.replies[i].lines,
        "%s: reply %zu differs ('%s' vs '%s')", how, i, printable(a.replies[i].text()).c_str(),
        printable(b.replies[i].text()).c_str());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nm::fuzz::Input input(data, size);
  // Up to eight chunk sizes, 1 to 65026 bytes (a decision of 0 ends the list).
  std::vector<size_t> cuts;
  while (cuts.size() < 8) {
    uint8_t d = input.decide();
    if (d == 0) break;
    cuts.push_back(1 + static_cast<size_t>(d - 1) * (d - 1));
  }
  std::string stream(input.rest());

  Outcome whole = parse(stream, {}, false);
  for (const auto& r : whole.replies) check_reply(r);
  check_same(whole, parse(stream, cuts, true), "fuzz-chosen chunks");
  if (stream.size() <= 16384)
    check_same(whole, parse(stream, {1, 3, 7, 2, 5}, false), "small chunks");
  return 0;
}
