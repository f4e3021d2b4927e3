#include <gtest/gtest.h>

#include "ftp_fake_model.hpp"
#include "services/ftp/ftp_service.hpp"

namespace nm::ftp {
namespace {

TEST(FtpService, RefusesAMissingRoot) {
  FtpConfig config;
  config.root = "/nonexistent/netmodels/root";
  EXPECT_THROW(make_ftp_service(config), std::runtime_error);
  testing::TempDir dir;
  config.root = dir.path();
  FtpUser user;
  user.name = "bob";
  user.root = dir / "missing";
  config.users.push_back(user);
  EXPECT_THROW(make_ftp_service(config), std::runtime_error);
}

TEST(FtpService, OpensSessionsAndRefusesWith421) {
  spdlog::set_level(spdlog::level::off);
  testing::TempDir dir;
  FtpConfig config;
  config.root = dir.path();
  auto service = make_ftp_service(config);
  EXPECT_EQ(service->name(), "ftp");
  EXPECT_EQ(service->refusal().substr(0, 4), "421 ");
  EXPECT_EQ(service->refusal().substr(service->refusal().size() - 2), "\r\n");
  ConnectionInfo info{*Address::parse("127.0.0.1:21"), *Address::parse("127.0.0.1:5000"), 7};
  auto session = service->open(info);
  Buffer out;
  session->start(out);
  EXPECT_EQ(out.view().substr(0, 4), "220 ");
  out.clear();
  session->receive("USER ftp\r\nPASS x\r\nQUIT\r\n", out);
  EXPECT_EQ(out.view().substr(0, 4), "331 ");
  EXPECT_NE(out.view().find("\r\n230 "), std::string_view::npos);
  EXPECT_NE(out.view().find("\r\n221 "), std::string_view::npos);
  EXPECT_TRUE(session->done());
}

}  // namespace
}  // namespace nm::ftp
