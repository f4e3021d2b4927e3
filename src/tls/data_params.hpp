#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace nm {

// What a protected (PROT P) data connection needs from its control connection, made by the
// session host when it starts the transfer and read by the data pump on the same thread.
struct TlsDataParams {
  // The control connection's own SSL_CTX: the data handshake resumes that connection's session
  // in the cache or ticket keys of this context, even after a reload swapped the server's.
  std::shared_ptr<SSL_CTX> ctx;
  // The control connection's owner token (see tls_owner in tls/context.hpp).
  std::string owner_token;
  // --tls-no-reuse turns this off: then any data handshake is accepted.
  bool require_reuse = true;
  // For the data connection's log lines: the session they belong to.
  uint64_t session_id = 0;
  std::string peer;
};

}  // namespace nm
