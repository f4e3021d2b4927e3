#pragma once

#include <functional>

#include "net/fd.hpp"
#include "session/session.hpp"

namespace nm {

// Opens the non-blocking listener a PASV / EPSV asked for, on a port of its range if it has one
// (tried from a random start, so concurrent sessions do not all race for the lowest port).
Fd open_passive_listener(const PassiveRequest& request, PassiveResult* result);

// True when a data connection from `peer` may be used by a session whose control peer is
// `control_peer`: only the same host, so no one else can steal the transfer (RFC 2577). A refusal
// is logged; the caller closes that connection and goes on waiting for the right one.
bool data_peer_allowed(const Address& peer, const Address& control_peer);

// Takes the first waiting connection on the non-blocking `passive` listener that
// data_peer_allowed(); refused ones are closed. An invalid Fd when none waits (errno EAGAIN) or
// accept failed.
Fd accept_data_connection(int passive, const Address& control_peer);
// The same with `allowed` in data_peer_allowed's place (it logs its own refusals): the rule of
// --proxy-protocol-data, which then reads the connection's header.
Fd accept_data_connection(int passive, const std::function<bool(const Address&)>& allowed);

}  // namespace nm
