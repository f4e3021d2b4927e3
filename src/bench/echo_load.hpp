#pragma once

#include <cstddef>
#include <cstdint>

#include "bench/histogram.hpp"
#include "bench/load_common.hpp"

namespace nm::bench {

struct EchoOptions {
  int connections = 10;
  size_t size = 64;
  double duration = 5;  // seconds measured
  double warmup = 1;    // seconds run before measuring, so connects and caches settle
  // The idle crowd: this many more connections, opened before the busy ones and left silent, so
  // that what changes with it is only the server's cost of watching descriptors that say nothing.
  int idle = 0;
  double idle_timeout = 30;  // seconds to open the crowd
  // connect-rate: every message on a new connection (connect, send, read the echo, close), so a
  // message costs the server an accept and a close as well.
  bool reconnect = false;
};

struct EchoResult {
  uint64_t messages = 0;  // whole echoes completed inside the measured window
  double seconds = 0;
  Histogram latency;  // ns from the first byte sent to the last byte echoed
  int connected = 0;
  int connect_failures = 0;
  int served = 0;                  // connections with at least one echo in the window
  int broken = 0;                  // closed or reset by the server, or answered with extra bytes
  double server_cpu_seconds = -1;  // -1: no --server-pid
  // The messages server_cpu_seconds paid for: those of the span its two readings covered.
  double server_cpu_messages = 0;
  int idle_opened = 0;      // of options.idle
  int idle_still_open = 0;  // at the end of the window: not closed by the server
  double idle_open_seconds = 0;
  int64_t idle_listen_overflows = -1;  // while the crowd opened; -1 unreadable
};

// N connections over `target.threads` epoll loops, each sending one message and waiting for its
// whole echo before the next (closed loop), so latency and throughput are those of the server.
// With `reconnect`, the latency is that of the whole cycle, from connect() to the echo's last byte.
EchoResult run_echo(const Target& target, const EchoOptions& options);

}  // namespace nm::bench
