#include "services/ftp/ftp_service.hpp"

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include "services/ftp/session.hpp"
#include "services/ftp/users_table.hpp"

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
  std::string_view shutdown_notice() const override { return kShutdownNotice; }

 private:
  const FtpConfig config_;  // sessions keep a reference: the service outlives them
  const std::string kShutdownNotice = "421 " + std::string(ftp::kShuttingDownText) + "\r\n";
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
  auto check = [](const FtpUser& user) {
    if (!user.root.empty()) require_folder(user.root, "user " + user.name + "'s root");
  };
  for (const auto& user : config.users) check(user);
  // A reloaded file is not checked this way: a root that went missing refuses that user's login
  // ("Home folder unavailable") and is logged, the other users go on.
  if (config.users_file) {
    for (const auto& user : *config.users_file->current()) check(user);
  }
  FtpConfig with_quotas = config;
  // Here, before any model forks: every process must share the one table.
  if (!with_quotas.quotas) with_quotas.quotas = std::make_shared<ftp::QuotaTable>();
  return std::make_unique<FtpService>(with_quotas);
}

}  // namespace nm
