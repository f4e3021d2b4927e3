#include "services/echo/echo.hpp"

namespace nm {
namespace {

class EchoSession final : public Session {
 public:
  void receive(std::string_view bytes, Buffer& out) override { out.append(bytes); }
  bool done() const override { return false; }
};

class EchoService final : public Service {
 public:
  std::string_view name() const override { return "echo"; }
  std::unique_ptr<Session> open(const ConnectionInfo&) override {
    return std::make_unique<EchoSession>();
  }
};

}  // namespace

std::unique_ptr<Service> make_echo_service() {
  return std::make_unique<EchoService>();
}

}  // namespace nm
