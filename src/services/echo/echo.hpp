#pragma once

#include <memory>

#include "session/service.hpp"

namespace nm {

// Sends back every byte received, in order.
std::unique_ptr<Service> make_echo_service();

}  // namespace nm
