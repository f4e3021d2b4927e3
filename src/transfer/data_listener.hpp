#pragma once

#include "net/fd.hpp"
#include "session/session.hpp"

namespace nm {

// Opens the non-blocking listener a PASV / EPSV asked for, on a port of its range if it has one
// (tried from a random start, so concurrent sessions do not all race for the lowest port).
Fd open_passive_listener(const PassiveRequest& request, PassiveResult* result);

// True when a data connection from `peer` may be used by a session whose control peer is
// `control_peer`: only the same host, so no one else can steal the transfer (RFC 2577).
inline bool data_peer_allowed(const Address& peer, const Address& control_peer) {
  return peer.same_host(control_peer);
}

}  // namespace nm
