#pragma once

#include <memory>

#include "session/service.hpp"

namespace nm {

// The article's service: log each chunk received (unless quiet) and answer "OK".
std::unique_ptr<Service> make_ack_service(bool quiet);

}  // namespace nm
