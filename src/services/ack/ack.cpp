#include "services/ack/ack.hpp"

#include <spdlog/spdlog.h>

#include "net/logfmt.hpp"
#include "services/printable.hpp"

namespace nm {
namespace {

// The article's protocol: every chunk that arrives is logged and answered with "OK".
// TCP has no message boundaries, so a "chunk" is whatever one read returned.
class AckSession final : public Session {
 public:
  AckSession(const ConnectionInfo& info, bool quiet)
      : peer_(info.peer.to_string()), quiet_(quiet) {}

  void receive(std::string_view bytes, Buffer& out) override {
    if (!quiet_) {
      spdlog::info("event=ack peer={} bytes={} data={}", peer_, bytes.size(),
                   logfmt_value(printable(bytes)));
    }
    out.append("OK");
  }
  bool done() const override { return false; }

 private:
  std::string peer_;
  bool quiet_;
};

class AckService final : public Service {
 public:
  explicit AckService(bool quiet) : quiet_(quiet) {}
  std::string_view name() const override { return "ack"; }
  std::unique_ptr<Session> open(const ConnectionInfo& info) override {
    return std::make_unique<AckSession>(info, quiet_);
  }

 private:
  bool quiet_;
};

}  // namespace

std::unique_ptr<Service> make_ack_service(bool quiet) {
  return std::make_unique<AckService>(quiet);
}

}  // namespace nm
