// The FTPS commands (RFC 4217) and the --tls levels, on the session alone: AUTH TLS asks the host
// for TLS and drops what came after it, PBSZ / PROT / CCC answer as clients expect, and the
// levels refuse USER and transfers with the codes (530, 521) that tell a client what to do.

#include <gtest/gtest.h>

#include "ftp_fake_model.hpp"

namespace nm::ftp {
namespace {

using testing::FtpSessionTest;

class FtpTlsTest : public FtpSessionTest {
 protected:
  void SetUp() override {
    FtpSessionTest::SetUp();
    config.tls = TlsLevel::kOptional;
  }
};

TEST_F(FtpTlsTest, AuthTlsIsRefusedWithoutACertificate) {
  config.tls = TlsLevel::kOff;
  open();
  EXPECT_EQ(code(cmd("AUTH TLS")), 502);
  EXPECT_EQ(model->start_tls, 0);
  // FEAT does not offer what is not there.
  EXPECT_EQ(cmd("FEAT").find("AUTH TLS"), std::string::npos);
}

TEST_F(FtpTlsTest, FeatOffersAuthTlsPbszProt) {
  open();
  auto feat = cmd("FEAT");
  EXPECT_NE(feat.find(" AUTH TLS\r\n"), std::string::npos);
  EXPECT_NE(feat.find(" PBSZ\r\n"), std::string::npos);
  EXPECT_NE(feat.find(" PROT\r\n"), std::string::npos);
}

TEST_F(FtpTlsTest, AuthTlsDropsEverythingPipelinedAfterIt) {
  open();
  // One packet: AUTH, then commands that a man in the middle could have appended in plaintext.
  auto out = model->send("AUTH TLS\r\nUSER alice\r\nPASS secret\r\nDELE x\r\n");
  EXPECT_EQ(codes(out), (std::vector<int>{234}));
  EXPECT_EQ(model->start_tls, 1);
  // Under TLS now: USER never ran, so PASS finds no user.
  EXPECT_EQ(code(cmd("PASS secret")), 503);
  EXPECT_EQ(code(cmd("AUTH TLS")), 503);  // once is enough
}

TEST_F(FtpTlsTest, AuthMechanismsAndPartialLineAfterAuth) {
  open();
  EXPECT_EQ(code(cmd("AUTH GSSAPI")), 504);
  // A partial line after AUTH is dropped too: it cannot be completed by bytes sent under TLS.
  EXPECT_EQ(code(model->send("AUTH SSL\r\nUSER al")), 234);
  EXPECT_FALSE(session->partial_input());
  EXPECT_EQ(code(cmd("ice")), 500);
}

TEST_F(FtpTlsTest, PbszAndProtOnlyUnderTls) {
  open();
  EXPECT_EQ(code(cmd("PBSZ 0")), 503);
  EXPECT_EQ(code(cmd("PROT P")), 503);
  EXPECT_EQ(code(cmd("CCC")), 533);
  cmd("AUTH TLS");
  EXPECT_EQ(code(cmd("PBSZ x")), 501);
  EXPECT_EQ(cmd("PBSZ 1024"), "200 PBSZ=0\r\n");
  EXPECT_EQ(code(cmd("PROT S")), 536);
  EXPECT_EQ(code(cmd("PROT Q")), 504);
  EXPECT_EQ(code(cmd("PROT P")), 200);
  EXPECT_EQ(code(cmd("CCC")), 534);
}

TEST_F(FtpTlsTest, ProtPMarksTheTransferProtected) {
  open();
  cmd("AUTH TLS");
  login();
  cmd("PBSZ 0");
  cmd("PROT P");
  EXPECT_EQ(code(passive("LIST")), 150);
  ASSERT_TRUE(model->transfer.has_value());
  EXPECT_TRUE(model->transfer->protect);
  model->finish();
  cmd("PROT C");
  EXPECT_EQ(code(passive("NLST")), 150);
  ASSERT_TRUE(model->transfer.has_value());
  EXPECT_FALSE(model->transfer->protect);
}

TEST_F(FtpTlsTest, RequiredRefusesUserBeforeAuthUnlessAnonymousIsExempt) {
  config.tls = TlsLevel::kRequired;
  open();
  auto reply = cmd("USER alice");
  EXPECT_EQ(code(reply), 530);
  EXPECT_NE(reply.find("AUTH TLS"), std::string::npos);
  EXPECT_EQ(code(cmd("USER anonymous")), 530);
  config.tls_anonymous_plain = true;
  open();
  EXPECT_EQ(code(cmd("USER anonymous")), 331);
  EXPECT_EQ(code(cmd("USER alice")), 530);
  cmd("AUTH TLS");
  EXPECT_EQ(code(cmd("USER alice")), 331);
}

TEST_F(FtpTlsTest, RequiredDataRefusesClearTransfersOnTheTransferCommand) {
  config.tls = TlsLevel::kRequiredData;
  open();
  cmd("AUTH TLS");
  login();
  // PASV is not where the level is checked: the transfer command is.
  EXPECT_EQ(code(cmd("PASV")), 227);
  EXPECT_EQ(code(cmd("LIST")), 521);
  EXPECT_FALSE(model->transfer.has_value());
  cmd("PBSZ 0");
  cmd("PROT P");
  EXPECT_EQ(code(cmd("LIST")), 150);
}

TEST_F(FtpTlsTest, TlsFailuresOfTheDataConnectionAre522) {
  open();
  cmd("AUTH TLS");
  login();
  cmd("PROT P");
  passive("LIST");
  auto reply = model->finish(TransferResult::Status::kTlsNotResumed);
  EXPECT_EQ(code(reply), 522);
  EXPECT_NE(reply.find("--tls-no-reuse"), std::string::npos);
  passive("LIST");
  EXPECT_EQ(code(model->finish(TransferResult::Status::kTlsFailed)), 522);
}

TEST_F(FtpTlsTest, ReinEndsExplicitTlsAndTheLevelsApplyAgain) {
  config.tls = TlsLevel::kRequired;
  open();
  cmd("AUTH TLS");
  login();
  cmd("PBSZ 0");
  cmd("PROT P");
  // Pipelined after REIN under TLS: not run (the client must wait for the 220 and end TLS).
  auto out = model->send("REIN\r\nUSER alice\r\n");
  EXPECT_EQ(codes(out), (std::vector<int>{220}));
  EXPECT_EQ(model->end_tls, 1);
  // Clear again: --tls required refuses USER until a new AUTH TLS, which is allowed.
  EXPECT_EQ(code(cmd("USER alice")), 530);
  EXPECT_EQ(code(cmd("PROT P")), 503);
  EXPECT_EQ(code(cmd("AUTH TLS")), 234);
  EXPECT_EQ(model->start_tls, 2);
}

TEST_F(FtpTlsTest, ImplicitTlsStartsProtectedAndReinKeepsIt) {
  model.reset();
  session.reset();
  info = ConnectionInfo{};
  info.local = *Address::parse("127.0.0.1:990");
  info.peer = *Address::parse("127.0.0.1:40000");
  info.implicit_tls = true;
  session = std::make_unique<FtpSession>(config, info);
  model = std::make_unique<testing::FakeModel>(*session);
  model->start();
  login();
  EXPECT_EQ(code(cmd("AUTH TLS")), 503);  // already under TLS
  passive("RETR nothing");
  EXPECT_EQ(code(cmd("REIN")), 220);
  EXPECT_EQ(model->end_tls, 0);  // TLS is the implicit port's connection itself: it stays
  login();
  EXPECT_EQ(code(passive("LIST")), 150);
  ASSERT_TRUE(model->transfer.has_value());
  EXPECT_TRUE(model->transfer->protect);  // PROT P implied again after REIN
}

}  // namespace
}  // namespace nm::ftp
