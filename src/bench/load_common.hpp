#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "net/address.hpp"

namespace nm::client {
class TlsContext;
}

namespace nm::bench {

// What every load mode is pointed at, the same for netmodels and for any peer.
struct Target {
  Address address;
  std::string user = "anonymous";
  std::string password = "bench@";
  pid_t server_pid = 0;  // 0: the server's CPU and memory are not reported
  int threads = 0;       // 0: one per core
  // Set: explicit FTPS, AUTH TLS after the greeting and a full handshake (no resumption) on the
  // control connection, the certificate checked against the CA file for the target's address.
  std::shared_ptr<const client::TlsContext> tls;
};

int thread_count(const Target& target, int connections);

// Splits `total` over `parts` as evenly as possible: the share of part `index`.
inline int share_of(int total, int parts, int index) {
  return total / parts + (index < total % parts ? 1 : 0);
}

// Progress line on stderr, so that stdout holds only results.
void progress(const std::string& line);

}  // namespace nm::bench
