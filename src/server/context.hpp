#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "net/cidr.hpp"
#include "net/fd.hpp"
#include "session/service.hpp"

namespace nm {

struct ServerOptions {
  std::chrono::milliseconds idle_timeout{0};  // 0: never
  std::chrono::milliseconds data_timeout{std::chrono::seconds(60)};
  // A command line must end within this long of its first byte (slowloris); 0: never.
  std::chrono::milliseconds command_timeout{0};
  // A session must log in within this long of connecting; 0: never.
  std::chrono::milliseconds login_timeout{0};
  size_t max_clients = 0;  // 0: no limit
  // Counted at accept time, by the socket's peer; 0: no limit. Behind a balancer (PROXY protocol
  // on) that peer is the balancer, so serve leaves this 0 and counts --max-per-ip by the header's
  // client in ServerContext::client_limit instead.
  size_t max_per_ip = 0;
  int backlog = 511;
  unsigned workers = 0;  // thread-pool, prefork, reactors; 0: the number of cores
  // thread-pool and prefork grow from `workers` up to this many as connections arrive (bounded
  // by max_clients when that is set).
  size_t max_workers = 256;
  size_t queue_capacity = 0;  // thread-pool's queue of accepted connections; 0: 4 x workers
  // FTPS: a TLS handshake (control or data) must end within this long; 0: never.
  std::chrono::milliseconds tls_handshake_timeout{std::chrono::seconds(10)};
  // A PROT P data connection must resume its control connection's TLS session (--tls-no-reuse).
  bool tls_require_reuse = true;
  // PROXY protocol on the control connection (--proxy-protocol): which versions a connection's
  // header may use; kOff: connections carry none. A connection from a peer outside
  // proxy_trusted is closed; one whose header does not come whole within proxy_timeout too.
  enum class ProxyProtocol { kOff, kV1, kV2, kAny };
  ProxyProtocol proxy_protocol = ProxyProtocol::kOff;
  std::vector<Cidr> proxy_trusted;
  std::chrono::milliseconds proxy_timeout{std::chrono::seconds(3)};
  // --proxy-protocol-data (needs proxy_protocol on): every passive data connection starts with a
  // header of its own, from a balancer in proxy_trusted, naming the control connection's client
  // (server/data_proxy_header.hpp).
  bool proxy_protocol_data = false;
};

class TlsContext;
class ClientLimit;

// Everything a model needs to serve: the bound listener, the protocol, the limits, and the
// descriptors that become readable when the server must drain (SIGTERM) or stop (SIGINT, a
// second SIGTERM, the drain's timeout).
struct ServerContext {
  Fd listener;  // blocking, bound and listening
  Service* service = nullptr;
  ServerOptions options;
  // The certificate for AUTH TLS and implicit TLS; null: no TLS. Outlives the model.
  const TlsContext* tls = nullptr;
  // --implicit-tls: a second listener (blocking, bound and listening, like `listener`) whose
  // connections start with the TLS handshake. Every model accepts on both; a connection knows
  // which it came through by its local port.
  Fd implicit_listener;
  uint16_t implicit_tls_port = 0;
  int stop_fd = -1;
  // --max-per-ip by the PROXY header's client address, counted by SessionHost once the header is
  // read (shared by every process of the server); null: per-ip is counted at accept time, if at
  // all. Outlives the model.
  ClientLimit* client_limit = nullptr;
  // Readable once a drain is asked for (net/signals.hpp); -1: never. Each driver then stops
  // listening (stop_listening below), asks each SessionHost to drain, and returns when its last
  // connection has closed, or at stop_fd, whichever comes first.
  int drain_fd = -1;
};

// The number of workers a model with --workers runs (thread-pool, prefork, reactors): the
// option's value, or the number of cores when it is 0.
unsigned worker_count(const ServerOptions& options);

// The sockets a model accepts on: `listener`, then `implicit_listener` when there is one.
std::vector<int> listeners(const ServerContext& context);
// Drain: every listener of `context` stops listening (net/socket.hpp); any thread.
void stop_listening(const ServerContext& context);

}  // namespace nm
