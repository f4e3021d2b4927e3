#include "tls/filter.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "net/signals.hpp"
#include "tls/context.hpp"
#include "tls/self_signed.hpp"

namespace nm {
namespace {

namespace fs = std::filesystem;

// Two filters talking to each other in memory, no sockets: what one sends the other is fed.
void exchange(TlsFilter& a, TlsFilter& b) {
  for (int round = 0; round < 20; ++round) {
    a.advance();
    b.advance();
    bool moved = false;
    if (!a.cipher().empty()) {
      b.feed(a.cipher().view());
      a.cipher().clear();
      moved = true;
    }
    if (!b.cipher().empty()) {
      a.feed(b.cipher().view());
      b.cipher().clear();
      moved = true;
    }
    if (!moved) return;
  }
}

class TlsFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("nm-tls-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    cert_ = (dir_ / "cert.pem").string();
    key_ = (dir_ / "key.pem").string();
    write_self_signed_certificate(cert_, key_);
    server_ctx_ = std::make_unique<TlsContext>(cert_, key_);
    client_ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(client_ctx_, cert_.c_str(), nullptr);
    SSL_CTX_set_verify(client_ctx_, SSL_VERIFY_PEER, nullptr);
    // The client keeps the sessions it is given, as FileZilla and curl do, to resume them.
    SSL_CTX_set_session_cache_mode(client_ctx_, SSL_SESS_CACHE_CLIENT);
  }
  void TearDown() override {
    SSL_CTX_free(client_ctx_);
    fs::remove_all(dir_);
  }
  // A control connection, handshaken, with the plaintext "hello" both ways so that TLS 1.3's
  // tickets (sent after the handshake) have reached the client.
  void open_control(std::unique_ptr<TlsFilter>& server, std::unique_ptr<TlsFilter>& client) {
    server = TlsFilter::server(*server_ctx_);
    token_ = server->mark_owner();
    client = TlsFilter::client(client_ctx_, "localhost");
    server->write("220 hello\r\n");
    exchange(*client, *server);
    client->write("USER x\r\n");
    exchange(*client, *server);
    ASSERT_EQ(server->state(), TlsFilter::State::kOpen) << server->error();
    ASSERT_EQ(client->state(), TlsFilter::State::kOpen) << client->error();
  }

  fs::path dir_;
  std::string cert_, key_;
  std::unique_ptr<TlsContext> server_ctx_;
  SSL_CTX* client_ctx_ = nullptr;
  std::string token_;
};

TEST_F(TlsFilterTest, HandshakeThenPlaintextBothWaysAndCleanClose) {
  std::unique_ptr<TlsFilter> server, client;
  open_control(server, client);
  EXPECT_EQ(client->plain().view(), "220 hello\r\n");
  EXPECT_EQ(server->plain().view(), "USER x\r\n");
  // A large write crosses many records and comes out whole.
  std::string big(300 * 1024, 'x');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  client->plain().clear();
  server->write(big);
  exchange(*server, *client);
  EXPECT_EQ(client->plain().view(), big);
  EXPECT_TRUE(server->flushed());
  // close_notify one way, answered the other way: both see a clean end, not a truncation.
  client->close();
  exchange(*client, *server);
  EXPECT_TRUE(server->peer_closed());
  EXPECT_TRUE(client->peer_closed());
  EXPECT_TRUE(server->close_sent());
}

TEST_F(TlsFilterTest, PlaintextWrittenBeforeTheHandshakeWaitsForIt) {
  auto server = TlsFilter::server(*server_ctx_);
  server->write("220 implicit greeting\r\n");
  server->advance();
  EXPECT_EQ(server->state(), TlsFilter::State::kHandshaking);
  EXPECT_FALSE(server->flushed());
  auto client = TlsFilter::client(client_ctx_, "localhost");
  exchange(*client, *server);
  EXPECT_EQ(client->plain().view(), "220 implicit greeting\r\n");
}

TEST_F(TlsFilterTest, DataConnectionResumesItsOwnControlSessionOnly) {
  std::unique_ptr<TlsFilter> server, client;
  open_control(server, client);
  std::unique_ptr<TlsFilter> other_server, other_client;
  std::string mine = token_;
  open_control(other_server, other_client);
  std::string theirs = token_;
  ASSERT_NE(mine, theirs);

  // A data connection resuming this control connection's session: accepted.
  SSL_SESSION* session = SSL_get1_session(client->ssl());
  auto data_server = TlsFilter::server(SSL_get_SSL_CTX(server->ssl()));
  data_server->no_tickets();
  auto data_client = TlsFilter::client(client_ctx_, "localhost", session);
  SSL_SESSION_free(session);
  exchange(*data_client, *data_server);
  ASSERT_EQ(data_server->state(), TlsFilter::State::kOpen) << data_server->error();
  EXPECT_TRUE(data_server->resumed());
  EXPECT_TRUE(data_server->resumed_from(mine));
  // The same session presented on the other user's data connection is refused.
  EXPECT_FALSE(data_server->resumed_from(theirs));

  // A fresh handshake (no session offered) is no resumption at all.
  auto fresh_server = TlsFilter::server(*server_ctx_);
  auto fresh_client = TlsFilter::client(client_ctx_, "localhost");
  exchange(*fresh_client, *fresh_server);
  ASSERT_EQ(fresh_server->state(), TlsFilter::State::kOpen);
  EXPECT_FALSE(fresh_server->resumed_from(mine));
}

TEST_F(TlsFilterTest, Tls12SessionCacheCarriesTheOwnerToo) {
  SSL_CTX_set_max_proto_version(client_ctx_, TLS1_2_VERSION);
  SSL_CTX_set_options(client_ctx_, SSL_OP_NO_TICKET);  // resumption by session id: the cache
  std::unique_ptr<TlsFilter> server, client;
  open_control(server, client);
  SSL_SESSION* session = SSL_get1_session(client->ssl());
  auto data_server = TlsFilter::server(SSL_get_SSL_CTX(server->ssl()));
  auto data_client = TlsFilter::client(client_ctx_, "localhost", session);
  SSL_SESSION_free(session);
  exchange(*data_client, *data_server);
  ASSERT_EQ(data_server->state(), TlsFilter::State::kOpen) << data_server->error();
  EXPECT_EQ(SSL_version(data_server->ssl()), TLS1_2_VERSION);
  EXPECT_TRUE(data_server->resumed_from(token_));
}

TEST_F(TlsFilterTest, GarbageFailsTheHandshakeWithAReason) {
  auto server = TlsFilter::server(*server_ctx_);
  server->feed("USER evil\r\nPASS evil\r\n");
  EXPECT_EQ(server->advance(), TlsFilter::State::kFailed);
  EXPECT_FALSE(server->error().empty());
  server->write("never sent");
  EXPECT_TRUE(server->plain().empty());
}

TEST_F(TlsFilterTest, UntrustedCertificateIsNamedInTheClientsError) {
  SSL_CTX* strict = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(strict, SSL_VERIFY_PEER, nullptr);  // trusts nothing
  auto server = TlsFilter::server(*server_ctx_);
  auto client = TlsFilter::client(strict, "localhost");
  exchange(*client, *server);
  EXPECT_EQ(client->state(), TlsFilter::State::kFailed);
  EXPECT_NE(client->error().find("self-signed"), std::string::npos) << client->error();
  SSL_CTX_free(strict);
}

TEST_F(TlsFilterTest, SighupLoadsTheRotatedCertificate) {
  install_reload_signal();
  auto before = server_ctx_->current();
  std::string old_subject = server_ctx_->describe();
  write_self_signed_certificate(cert_, key_, "rotated.example");
  EXPECT_EQ(server_ctx_->current(), before);  // no SIGHUP yet: no reload
  std::raise(SIGHUP);
  auto after = server_ctx_->current();
  EXPECT_NE(after, before);
  EXPECT_NE(server_ctx_->describe().find("rotated.example"), std::string::npos);
  // A broken file on the next reload keeps the certificate that works.
  std::FILE* f = std::fopen(cert_.c_str(), "w");
  std::fputs("not a certificate", f);
  std::fclose(f);
  std::raise(SIGHUP);
  EXPECT_EQ(server_ctx_->current(), after);
  (void)old_subject;
}

TEST_F(TlsFilterTest, MissingCertificateIsAClearError) {
  try {
    TlsContext broken((dir_ / "absent.pem").string(), key_);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("absent.pem"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace nm
