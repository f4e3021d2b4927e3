#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "net/address.hpp"
#include "net/fd.hpp"

namespace nm::client {

using Millis = std::chrono::milliseconds;

// A connection failed, broke or timed out.
class NetworkError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The user pressed Ctrl-C during a network wait.
class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

// Called from a SIGINT handler: the current wait ends with Interrupted.
void request_interrupt();
void clear_interrupt();
bool interrupt_requested();

// Waits until `fd` is ready for `events` (POLLIN, POLLOUT); throws NetworkError when the time
// runs out, Interrupted when Ctrl-C is pressed.
void wait_ready(int fd, short events, Millis timeout, std::string_view what);

// Resolves `host` (a name or a numeric address) and connects to the first of its addresses that
// answers within `timeout`. The socket is non-blocking; every later wait is bounded by a poll.
Fd connect_host(const std::string& host, uint16_t port, Millis timeout);
Fd connect_address(const Address& address, Millis timeout);
// Reads what is there, up to n bytes; 0 at end of stream.
size_t read_some(int fd, char* buf, size_t n, Millis timeout, std::string_view what);
void write_all(int fd, std::string_view data, Millis timeout, std::string_view what);
// Accepts one connection from `expected_peer`'s host; strangers are turned away.
Fd accept_from(int listener, const Address& expected_peer, Millis timeout);

}  // namespace nm::client
