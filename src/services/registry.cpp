#include "services/registry.hpp"

#include "services/ack/ack.hpp"
#include "services/echo/echo.hpp"
#include "services/ftp/ftp_service.hpp"

namespace nm {

std::vector<std::string> service_names() {
  return {"ack", "echo", "ftp"};
}

std::unique_ptr<Service> make_service(std::string_view name, const ServiceOptions& options) {
  if (name == "ack") return make_ack_service(options.quiet);
  if (name == "echo") return make_echo_service();
  if (name == "ftp") return make_ftp_service(options.ftp);
  return nullptr;
}

}  // namespace nm
