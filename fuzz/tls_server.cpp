// The TLS engine's server side (tls/filter.hpp), as every control and PROT P data connection
// runs it, fed arbitrary bytes in arbitrary chunks: what a port scanner, a broken client or an
// attacker sends where a ClientHello belongs, and after it.
//
// Input: the peer's bytes, with chunk sizes and a few choices (owner mark, no tickets, bulk
// reads, plaintext to send first) taken off its back (fuzz_support.hpp). Checks: no crash (the
// sanitizers watch memory), a failed engine stays failed and takes no plaintext, plaintext never
// appears before the handshake ended, and neither plaintext nor records grow beyond a bound set
// by what went in (a handshake flight, our queued plaintext, and the input itself).

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "fuzz_support.hpp"
#include "tls/context.hpp"
#include "tls/filter.hpp"
#include "tls/self_signed.hpp"

namespace {

// One certificate for the whole run, in a folder of its own.
const nm::TlsContext& context() {
  static std::unique_ptr<nm::TlsContext> ctx = [] {
    auto dir =
        std::filesystem::temp_directory_path() / ("nm-fuzz-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto cert = (dir / "cert.pem").string();
    auto key = (dir / "key.pem").string();
    nm::write_self_signed_certificate(cert, key);
    auto made = std::make_unique<nm::TlsContext>(cert, key);
    std::filesystem::remove_all(dir);
    return made;
  }();
  return *ctx;
}

// Our first flight (certificate, tickets) plus the records of what we queued, with room.
constexpr size_t kFlightBound = 64 * 1024;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nm::fuzz::Input input(data, size);
  uint8_t setup = input.decide();
  auto filter = nm::TlsFilter::server(context());
  if (setup & 1) filter->mark_owner();
  if (setup & 2) filter->no_tickets();
  bool pull = setup & 4;
  if (pull) filter->pull_plaintext();
  std::string queued = (setup & 8) ? "220 netmodels FTP server ready.\r\n" : "";
  filter->write(queued);

  size_t fed = 0, cipher_out = 0, plain_in = 0;
  bool failed = false;
  while (!input.empty()) {
    size_t chunk = 1 + input.decide() % 64;
    if (input.decide() & 1) chunk *= 64;
    auto bytes = input.take(chunk);
    fed += bytes.size();
    bool was_open = filter->handshake_done();
    filter->feed(bytes);
    auto state = filter->advance();
    if (pull) {
      char room[4096];
      while (size_t n = filter->read(room, sizeof room)) plain_in += n;
    }
    plain_in += filter->plain().size();
    filter->plain().clear();
    cipher_out += filter->cipher().size();
    filter->cipher().clear();
    NM_FUZZ_CHECK(!failed || state == nm::TlsFilter::State::kFailed, "a failed engine recovered");
    failed = state == nm::TlsFilter::State::kFailed;
    NM_FUZZ_CHECK(was_open || filter->handshake_done() || plain_in == 0,
                  "plaintext before the handshake ended");
    NM_FUZZ_CHECK(plain_in <= fed, "%zu bytes of plaintext from %zu bytes in", plain_in, fed);
    NM_FUZZ_CHECK(cipher_out <= kFlightBound + queued.size() * 2 + fed,
                  "%zu bytes of records for %zu bytes in", cipher_out, fed);
    if (failed) {
      filter->write("must not be sent");
      NM_FUZZ_CHECK(filter->flushed(), "a failed engine queued plaintext");
    }
  }
  return 0;
}
