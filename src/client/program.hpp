#pragma once

#include <string>
#include <vector>

namespace nm::client {

// What `netmodels ftp` was asked to do, once its command line is read.
struct ClientOptions {
  // [USER[:PASSWORD]@]HOST[:PORT] or an ftp:// URL; or get / put / ls followed by URLs.
  std::vector<std::string> words;
  std::vector<std::string> commands;  // run these instead of the prompt
  double timeout = 30;                // seconds, for connecting and for every read
  bool active = false;                // start in active mode (PORT/EPRT)
  bool verbose = false;               // commands and replies on stderr
  bool tls = false;                   // --tls: require AUTH TLS on an ftp:// target
  bool no_tls = false;                // --no-tls: clear text even if the server offers TLS
  std::string ca_file;                // trust these certificates instead of the system's
  bool insecure = false;              // accept any certificate
  std::string netrc_file;             // logins to use instead of ~/.netrc
};

// Runs the client: a prompt, a script (the commands, or stdin when it is not a terminal) or a
// one-shot URL command. Returns the exit status: 0, 1 when a command failed, 2 for a usage error.
int run_client(const ClientOptions& options);

}  // namespace nm::client
