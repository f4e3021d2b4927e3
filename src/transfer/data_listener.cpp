#include "transfer/data_listener.hpp"

#include <spdlog/spdlog.h>

#include <random>
#include <system_error>

#include "net/socket.hpp"
#include "session/metrics.hpp"

namespace nm {

Fd open_passive_listener(const PassiveRequest& request, PassiveResult* result) {
  Address address = request.bind;
  ListenOptions options{1, false, true};
  auto try_port = [&](uint16_t port) -> Fd {
    address.set_port(port);
    try {
      Fd fd = listen_on(address, options);
      result->ok = true;
      result->bound = local_address(fd.get());
      return fd;
    } catch (const std::system_error& e) {
      result->error = e.code().value();
      return Fd();
    }
  };
  if (request.port_min == 0) return try_port(0);
  unsigned span = request.port_max - request.port_min + 1u;
  static thread_local std::minstd_rand random{std::random_device{}()};
  unsigned start = random() % span;
  for (unsigned i = 0; i < span; ++i) {
    Fd fd = try_port(static_cast<uint16_t>(request.port_min + (start + i) % span));
    if (fd) return fd;
  }
  result->ok = false;
  return Fd();
}

bool data_peer_allowed(const Address& peer, const Address& control_peer) {
  if (peer.same_host(control_peer)) return true;
  count(Metric::kDataRefusedForeignPeer);
  spdlog::warn("event=data-refused from={} control_peer={}", peer.to_string(),
               control_peer.to_string());
  return false;
}

Fd accept_data_connection(int passive, const Address& control_peer) {
  return accept_data_connection(
      passive, [&](const Address& from) { return data_peer_allowed(from, control_peer); });
}

Fd accept_data_connection(int passive, const std::function<bool(const Address&)>& allowed) {
  for (;;) {
    Address from;
    Fd data(accept_connection(passive, &from, true));
    if (!data || allowed(from)) return data;
  }
}

}  // namespace nm
