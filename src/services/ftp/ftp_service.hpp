#pragma once

#include <memory>

#include "services/ftp/ftp_config.hpp"
#include "session/service.hpp"

namespace nm {

// Standard FTP (RFC 959, 2389, 2428, 3659) as a sans-IO session. Throws std::runtime_error when
// the configuration cannot serve (a root that does not exist, say).
std::unique_ptr<Service> make_ftp_service(const FtpConfig& config);

}  // namespace nm
