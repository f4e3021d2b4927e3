#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace nm {

// What every driver and service counts for --metrics-listen, written in the Prometheus text format
// by render_metrics(). One fixed table of counters and gauges (no labels chosen at run time, so the
// table has a fixed size and lives in one block of memory).
//
// Where the numbers live. fork and prefork serve from child processes, and a child's counts must
// reach the process that answers the scrape. They are atomics in one shared anonymous mapping
// (MAP_SHARED) made by enable_shared_metrics() before any fork, so every process adds into the
// same cells, lock-free; a reporting pipe would need a reader loop in the parent and would lose
// what a killed child had not yet reported. Without that call (unit tests, the client) the cells
// are this process's own. Any thread or process may count; counting is one relaxed atomic add.
enum class Metric : size_t {
  kConnectionsAccepted,
  kConnectionsActive,  // gauge
  kRefusedMaxClients,
  kRefusedMaxPerIp,
  kRefusedQueueFull,
  kRefusedProxyHeader,
  kLoginsOk,
  kLoginsFailed,
  kBytesSent,
  kBytesReceived,
  kPassiveListenersOpen,  // gauge
  kTlsHandshakesControlOk,
  kTlsHandshakesControlFailed,
  kTlsHandshakesDataOk,
  kTlsHandshakesDataResumed,
  kTlsHandshakesDataFailed,
  kDataRefusedForeignPeer,
  kDataRefusedProxyHeader,
  kCount,
};

// The transfer commands counted by command and result.
enum class TransferVerb : size_t { kRetr, kStor, kAppe, kStou, kList, kNlst, kMlsd, kCount };
enum class TransferOutcome : size_t { kOk, kAborted, kFailed, kCount };

void count(Metric metric, int64_t delta = 1);
void count_transfer(std::string_view verb, TransferOutcome outcome);
uint64_t metric_value(Metric metric);
uint64_t transfer_count(TransferVerb verb, TransferOutcome outcome);

// Moves the counters into memory shared with the processes forked after this call (values so
// far are kept). Call once, before the model starts, from the main thread.
void enable_shared_metrics();

struct BuildInfo {
  std::string version;
  std::string model;
  std::string service;
  std::string instance;
};

// The text exposition format (version 0.0.4) of every metric, for GET /metrics.
std::string render_metrics(const BuildInfo& build);

}  // namespace nm
