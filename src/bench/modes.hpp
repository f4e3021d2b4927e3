#pragma once

#include <string>

#include "bench/echo_load.hpp"
#include "bench/ftp_load.hpp"
#include "bench/idle_load.hpp"

namespace nm::bench {

enum class OutputFormat { kTable, kJson, kCsv };

// What every mode of `netmodels bench` shares, once app/ has read the command line.
struct ModeOptions {
  std::string host = "127.0.0.1:2121";  // HOST:PORT
  std::string user = "anonymous";
  std::string password = "bench@";
  int server_pid = 0;  // 0: the server's CPU and memory are not reported
  int threads = 0;     // load threads; 0: one per core
  OutputFormat format = OutputFormat::kTable;
  std::string label;    // copied into the results (e.g. the server's name)
  bool tls = false;     // FTP modes: explicit FTPS (AUTH TLS), see Target::tls
  std::string ca_file;  // with tls: the CA to trust (the system's store when empty)
};

// Each runs one mode and prints its report on stdout (progress on stderr). Returns the exit
// status: 0 when the mode measured what it was asked to, 1 otherwise or on an error (its message
// on stderr).
int run_echo_mode(const ModeOptions& mode, const EchoOptions& options);
// The echo load with a new connection per message: connections/s and server CPU per connection.
int run_connect_rate_mode(const ModeOptions& mode, EchoOptions options);
int run_ftp_sessions_mode(const ModeOptions& mode, const FtpSessionOptions& options);
int run_login_storm_mode(const ModeOptions& mode, int clients, double timeout);
int run_watched_storm_mode(const ModeOptions& mode, const WatchedStormOptions& options);
int run_transfer_mode(const ModeOptions& mode, const TransferOptions& options);
int run_parallel_mode(const ModeOptions& mode, int clients, const std::string& file,
                      double timeout);
int run_idle_mode(const ModeOptions& mode, const IdleOptions& options);

}  // namespace nm::bench
