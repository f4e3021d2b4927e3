#include <memory>

#include "app/commands.hpp"
#include "client/program.hpp"

namespace nm {
namespace {

constexpr const char* kFooter = R"(Forms:
  netmodels ftp [USER[:PASSWORD]@]HOST[:PORT]        the interactive prompt (type help)
  netmodels ftp HOST -c "get a.txt" -c "put b.bin"    run commands, then leave
  echo "get a.txt" | netmodels ftp HOST               commands from stdin
  netmodels ftp get ftp://USER:PW@HOST:PORT/PATH [LOCAL]   (LOCAL "-": stdout)
  netmodels ftp put LOCAL ftp://USER:PW@HOST:PORT/PATH     (PATH ending in /: a folder)
  netmodels ftp ls ftp://HOST:PORT/DIR/
URLs may be ftpes:// (TLS required, AUTH TLS) or ftps:// (implicit TLS, port 990); on ftp://
and HOST, TLS is used when the server's FEAT offers AUTH TLS (--tls requires it, --no-tls
refuses it). Certificates are checked against the system's CA store and the host name.
Without a PASSWORD, ~/.netrc (or --netrc-file) gives the login of the host's machine entry;
failing that, without USER the login is anonymous, with USER the password is asked.
The port defaults to 21; an IPv6 host goes in brackets: [::1]:2121.
The exit status is 1 when any command failed, 2 for a usage error.)";

}  // namespace

void add_ftp_command(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<client::ClientOptions>();
  auto* cmd = app.add_subcommand("ftp", "the FTP client: a prompt, a script or a one-shot URL");
  cmd->add_option("target", args->words, "[USER[:PASSWORD]@]HOST[:PORT], or get/put/ls with URLs")
      ->required();
  cmd->add_option("-c,--command", args->commands,
                  "run this command instead of the prompt (repeatable)");
  cmd->add_option("--timeout", args->timeout,
                  "seconds to wait for the server when connecting and on every read")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--active", args->active, "start in active mode (PORT/EPRT)");
  cmd->add_flag("-v,--verbose", args->verbose, "show the commands and replies on stderr");
  cmd->add_flag("--tls", args->tls,
                "require TLS (AUTH TLS) on ftp:// and HOST targets; without it, TLS is used "
                "when the server offers it");
  cmd->add_flag("--no-tls", args->no_tls, "stay in clear text even if the server offers TLS");
  cmd->add_option("--ca-file", args->ca_file,
                  "trust the certificates in FILE (PEM) instead of the system's CA store")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--insecure", args->insecure,
                "accept any server certificate (self-signed test servers)");
  cmd->add_option("--netrc-file", args->netrc_file,
                  "take logins from FILE instead of ~/.netrc (machine/login/password/default; "
                  "refused when group or others can read it)")
      ->check(CLI::ExistingFile);
  cmd->footer(kFooter);
  cmd->callback([args, exit_code] { *exit_code = client::run_client(*args); });
}

}  // namespace nm
