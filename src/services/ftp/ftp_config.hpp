#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/address.hpp"
#include "services/ftp/quota_table.hpp"
#include "services/ftp/xferlog.hpp"

namespace nm {

class UsersTable;

struct FtpRights {
  bool read = true;
  bool write = false;   // STOR, APPE, STOU
  bool remove = false;  // DELE, RMD
  bool rename = false;  // RNFR / RNTO
  bool mkdir = false;   // MKD
};

struct FtpUser {
  std::string name;
  std::string password_hash;  // crypt(3) hash ("$y$...", "$6$..."), or empty with plain set
  std::optional<std::string> plain_password;  // from --user NAME:PASSWORD
  std::filesystem::path root;
  FtpRights rights;
  // rate=BYTES: this user's data connections, bytes a second; 0: the server's --max-rate.
  uint64_t max_rate = 0;
  // quota=BYTES[,FILES]: what the user may store under its root; nullopt: no quota.
  std::optional<ftp::QuotaLimits> quota;
};

// --tls: what the server demands of a client (pure-ftpd's levels). kOff also when no
// certificate is configured.
enum class TlsLevel {
  kOff,           // AUTH TLS is refused (502)
  kOptional,      // offered; plaintext sessions still work
  kRequired,      // USER before AUTH TLS gets 530
  kRequiredData,  // kRequired, and transfers under PROT C get 521
};

struct FtpConfig {
  std::filesystem::path root = ".";  // anonymous users' root and --user users' root
  bool anonymous = true;
  bool anonymous_write = false;
  std::vector<FtpUser> users;              // --user: fixed for the process's life
  std::shared_ptr<UsersTable> users_file;  // --users: re-read after a SIGHUP; null: none
  bool show_hidden = false;
  uint16_t pasv_port_min = 0;  // 0 and 0: any port
  uint16_t pasv_port_max = 0;
  std::optional<Address> pasv_address;  // the host PASV announces (NAT); EPSV has no host
  int max_login_failures = 3;           // then the connection is closed
  int login_failure_delay_ms = 1000;
  std::shared_ptr<XferLog> xferlog;  // --xferlog: one line per RETR / STOR; null: none
  // --umask: sessions create uploads 0666 & ~umask and folders 0777 & ~umask. serve also sets the
  // process's umask to it, so the one the process inherited (a shell's, systemd's) adds nothing.
  mode_t umask = 022;
  // --max-hash-size: the most bytes one HASH digests (0: no limit); see hash_commands.cpp.
  uint64_t max_hash_size = uint64_t{1} << 30;
  // --max-rate and --anon-max-rate: bytes a second on each data connection of a logged-in user
  // and of an anonymous one (vsftpd's local_max_rate, anon_max_rate); 0: no limit. A user's own
  // rate= in the users file wins over --max-rate.
  uint64_t max_rate = 0;
  uint64_t anon_max_rate = 0;
  // Every session's view of what users with a quota store (shared memory: made before the model
  // forks). make_ftp_service() makes it when it is null; null in a session: quotas unenforced.
  std::shared_ptr<ftp::QuotaTable> quotas;
  TlsLevel tls = TlsLevel::kOff;
  bool tls_anonymous_plain = false;  // --tls-anonymous-plain: anonymous is exempt from kRequired*
  // --instance-id: carried by the temporary upload names (upload_names.hpp); empty in tests.
  std::string instance_id;
};

}  // namespace nm
