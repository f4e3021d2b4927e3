#include "services/ftp/ftp_service.hpp"

#include <stdexcept>

namespace nm {

// Placeholder until the FTP session lands.
std::unique_ptr<Service> make_ftp_service(const FtpConfig&) {
  throw std::runtime_error("the ftp service is not built yet");
}

}  // namespace nm
