#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/address.hpp"
#include "server/context.hpp"
#include "server/proxy_header.hpp"

namespace nm {

// The versions a --proxy-protocol mode lets a header use (the mode must not be kOff).
ProxyHeaderParser::Accept accepted_proxy_versions(ServerOptions::ProxyProtocol mode);

// The rule for a passive data connection under --proxy-protocol-data, sans-IO, written once for
// the three drivers, which only accept, read and close: the connection comes from a balancer in
// --proxy-trusted and starts with a PROXY header (the versions --proxy-protocol accepts) whose
// source is the same host as the client the control connection's header named. Owned by the
// driver object running one transfer, and called from its thread only.
//
// Theory of operation. The driver accepts on the passive listener and asks admit() with the
// socket's peer: a peer outside --proxy-trusted is refused at once, without a byte read (so
// nobody but a balancer can hold the listener while a header trickles in). Any trusted balancer
// will do, not only the one that carried the control connection: a farm's balancers share the
// passive ranges, and a data connection's own header, not its transport, says whose it is. Then
// the driver feeds the candidate's bytes without blocking (or, on the blocking models, in waits
// bounded by deadline(), which is --proxy-timeout from admit()) until feed() decides:
//   kAccepted  the header names the session's client: take_rest() holds the bytes that came
//              after it in the same reads, the data stream's first (an upload's, or the TLS
//              ClientHello under PROT P), which the pump must get before any it reads itself;
//   kRefused   malformed, of a version not accepted, a v2 LOCAL (a health check has no business
//              on a passive port), another client, the candidate's EOF (ended()) or
//              deadline() passing (expire()): logged as event=data-refused; the driver closes
//              the candidate and accepts the next, one at a time, under the transfer's own data
//              time-out as ever.
// A candidate at a time is enough: only a trusted balancer gets as far as the header, and one
// that stalls is cut at --proxy-timeout.
class DataProxyHeader {
 public:
  using Clock = std::chrono::steady_clock;
  enum class State { kNeedMore, kAccepted, kRefused };

  // `client`: the session's client (ConnectionInfo::peer); `id`: its session, for the log.
  DataProxyHeader(const ServerOptions& options, const Address& client, uint64_t id);

  // A connection from `from` was accepted on the passive listener: true when its header is to
  // be read (it comes from a trusted balancer), false (logged) when it is to be closed. Starts
  // afresh, whatever an earlier candidate left.
  bool admit(const Address& from, Clock::time_point now = Clock::now());
  // The candidate's bytes, as they come.
  State feed(std::string_view bytes);
  // The candidate ended (EOF, an error) before its header was whole.
  State ended();
  // deadline() has passed before the header was whole.
  State expire();
  // When the candidate's header must be whole.
  Clock::time_point deadline() const { return until_; }
  State state() const { return state_; }
  // kRefused: why (a logfmt-safe word).
  const char* reason() const { return reason_; }
  // kAccepted: the data stream's first bytes, handed over once.
  std::string take_rest() { return std::move(rest_); }

 private:
  State refuse(const char* reason);

  ProxyHeaderParser::Accept accept_;
  const std::vector<Cidr>& trusted_;
  std::chrono::milliseconds timeout_;
  Address client_;
  uint64_t id_;
  ProxyHeaderParser parser_;
  Address from_;
  Address named_;  // the client the header named, when it named one
  Clock::time_point until_ = Clock::time_point::max();
  State state_ = State::kRefused;  // until admit()
  const char* reason_ = "not-admitted";
  std::string rest_;
};

}  // namespace nm
