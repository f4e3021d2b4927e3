#include "services/ftp/users_file.hpp"

#include <stdexcept>

namespace nm {

// Placeholder until the FTP session lands.
std::vector<FtpUser> load_users_file(const std::filesystem::path& path) {
  throw std::runtime_error("cannot read " + path.string() + ": users files are not supported yet");
}

}  // namespace nm
