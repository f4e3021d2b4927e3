#include "services/ftp/ftp_service.hpp"

#include <filesystem>
#include <stdexcept>

#include "services/ftp/session.hpp"

namespace nm {
namespace {

class FtpService final : public Service {
 public:
  explicit FtpService(const FtpConfig& config) : config_(config) {}
  std::string_view name() const override { return "ftp"; }
  std::unique_ptr<Session> open(const ConnectionInfo& info) override {
    return std::make_unique<ftp::FtpSession>(config_, info);
  }
  std::string_view refusal() const override {
    return "421 Too many connections; try again later.\r\n";
  }

 private:
  const FtpConfig config_;  // sessions keep a reference: the service outlives them
};

void require_folder(const std::filesystem::path& root, const std::string& what) {
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec)) {
    throw std::runtime_error(what + " " + root.string() + " is not a folder");
  }
}

}  // namespace

std::unique_ptr<Service> make_ftp_service(const FtpConfig& config) {
  require_folder(config.root, "the root");
  for (const auto& user : config.users) {
    if (!user.root.empty()) require_folder(user.root, "user " + user.name + "'s root");
  }
  return std::make_unique<FtpService>(config);
}

}  // namespace nm
