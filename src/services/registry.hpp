#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "services/ftp/ftp_config.hpp"
#include "session/service.hpp"

namespace nm {

struct ServiceOptions {
  bool quiet = false;  // ack: do not log each chunk
  FtpConfig ftp;
};

std::vector<std::string> service_names();
// nullptr for an unknown name.
std::unique_ptr<Service> make_service(std::string_view name, const ServiceOptions& options);

}  // namespace nm
