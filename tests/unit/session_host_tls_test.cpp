// SessionHost with TLS on the control connection, driven in memory: the driver's bytes are fed
// to a client TlsFilter and back, so the test sees exactly what would cross the wire. No
// sockets, the clock passed in by hand.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <deque>
#include <filesystem>

#include "server/session_host.hpp"
#include "tls/context.hpp"
#include "tls/data_params.hpp"
#include "tls/filter.hpp"
#include "tls/self_signed.hpp"

namespace nm {
namespace {

namespace fs = std::filesystem;

// A line echo that asks for TLS on "auth\n", as FTP's AUTH TLS does (234 first, in plaintext).
class TlsScriptedSession final : public Session {
 public:
  void start(Buffer& out) override { out.append("220 hi\n"); }
  void receive(std::string_view bytes, Buffer& out) override {
    received += bytes;
    if (bytes == "auth\n") {
      out.append("234 go\n");
      requests.emplace_back(StartTlsRequest{});
    } else if (bytes == "rein\n") {
      out.append("220 clear\n");
      requests.emplace_back(EndTlsRequest{});
    } else if (bytes == "get\n") {
      TransferRequest t;
      t.protect = true;
      requests.emplace_back(std::move(t));
    } else {
      out.append("echo:");
      out.append(bytes);
    }
  }
  bool done() const override { return false; }
  std::optional<DataRequest> take_request() override {
    if (requests.empty()) return std::nullopt;
    DataRequest r = std::move(requests.front());
    requests.pop_front();
    return r;
  }
  void transfer_finished(const TransferResult& result, Buffer&) override {
    finished.push_back(result.status);
  }
  std::deque<DataRequest> requests;
  std::string received;
  std::vector<TransferResult::Status> finished;
};

class TlsScriptedService final : public Service {
 public:
  std::string_view name() const override { return "tls-scripted"; }
  std::unique_ptr<Session> open(const ConnectionInfo& info) override {
    implicit = info.implicit_tls;
    auto s = std::make_unique<TlsScriptedSession>();
    last = s.get();
    return s;
  }
  TlsScriptedSession* last = nullptr;
  bool implicit = false;
};

class NullDriver final : public SessionHost::Driver {
 public:
  PassiveResult open_passive(const PassiveRequest&) override { return {}; }
  void close_passive() override {}
  void start_transfer(TransferRequest request) override { transfer = std::move(request); }
  void stop_transfer(TransferResult::Status status) override { stops.push_back(status); }
  void start_delay(std::chrono::milliseconds) override {}
  void run_work(std::function<void()>) override {}
  std::optional<TransferRequest> transfer;
  std::vector<TransferResult::Status> stops;
};

class SessionHostTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::off);
    dir_ = fs::temp_directory_path() / ("nm-host-tls-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    write_self_signed_certificate((dir_ / "c.pem").string(), (dir_ / "k.pem").string());
    tls_ = std::make_unique<TlsContext>((dir_ / "c.pem").string(), (dir_ / "k.pem").string());
    client_ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(client_ctx_, (dir_ / "c.pem").c_str(), nullptr);
    SSL_CTX_set_verify(client_ctx_, SSL_VERIFY_PEER, nullptr);
    context_.service = &service_;
    context_.tls = tls_.get();
    context_.options.tls_handshake_timeout = std::chrono::seconds(10);
  }
  void TearDown() override {
    host_.reset();
    SSL_CTX_free(client_ctx_);
    fs::remove_all(dir_);
  }
  void open(uint16_t local_port = 21) {
    host_ = std::make_unique<SessionHost>(driver_, context_);
    host_->open(*Address::from("127.0.0.1", local_port), *Address::from("127.0.0.1", 40000));
  }
  // What the host sent since last time.
  std::string wire() {
    std::string s(host_->output().view());
    host_->output().clear();
    return s;
  }
  // A new client's handshake with the host, talked through to its end.
  void handshake() {
    client_ = TlsFilter::client(client_ctx_, "localhost");
    converse();
  }
  // Client and host talk until neither has anything to say.
  void converse() {
    for (int i = 0; i < 20; ++i) {
      client_->advance();
      bool moved = false;
      if (!client_->cipher().empty()) {
        std::string bytes(client_->cipher().view());
        client_->cipher().clear();
        host_->received(bytes);
        moved = true;
      }
      if (!host_->output().empty()) {
        client_->feed(wire());
        moved = true;
      }
      if (!moved) return;
    }
  }

  fs::path dir_;
  std::unique_ptr<TlsContext> tls_;
  SSL_CTX* client_ctx_ = nullptr;
  TlsScriptedService service_;
  NullDriver driver_;
  ServerContext context_;
  std::unique_ptr<SessionHost> host_;
  std::unique_ptr<TlsFilter> client_;
};

TEST_F(SessionHostTlsTest, StartTlsSendsTheReplyInClearThenEverythingUnderTls) {
  open();
  EXPECT_EQ(wire(), "220 hi\n");
  host_->received("auth\n");
  EXPECT_EQ(wire(), "234 go\n");  // in plaintext: the client reads it before its ClientHello
  handshake();
  ASSERT_EQ(client_->state(), TlsFilter::State::kOpen) << client_->error();
  client_->write("hello\n");
  converse();
  EXPECT_EQ(std::string(client_->plain().view()), "echo:hello\n");
  // The session saw plaintext only.
  EXPECT_EQ(service_.last->received, "auth\nhello\n");
  // A protected transfer gets this control connection's context and owner token.
  client_->write("get\n");
  converse();
  ASSERT_TRUE(driver_.transfer.has_value());
  ASSERT_TRUE(driver_.transfer->tls);
  EXPECT_NE(driver_.transfer->tls->ctx, nullptr);
  EXPECT_FALSE(driver_.transfer->tls->owner_token.empty());
  EXPECT_TRUE(driver_.transfer->tls->require_reuse);
}

TEST_F(SessionHostTlsTest, GarbageInsteadOfAHandshakeClosesAfterTheAlert) {
  open();
  wire();
  host_->received("auth\n");
  wire();
  host_->received("USER evil\r\n");  // plaintext where a ClientHello must be
  // Closed once whatever alert OpenSSL made is out (for a plaintext line, none).
  EXPECT_EQ(host_->next(), SessionHost::Next::kCloseWhenSent);
  host_->received("PASS evil\r\n");
  EXPECT_EQ(service_.last->received, "auth\n");  // never delivered
}

TEST_F(SessionHostTlsTest, AStalledHandshakeIsCutAtTheTimeout) {
  context_.options.tls_handshake_timeout = std::chrono::seconds(3);
  open();
  host_->received("auth\n");
  auto due = host_->deadline();
  EXPECT_LE(due, SessionHost::Clock::now() + std::chrono::seconds(3));
  host_->tick(due + std::chrono::milliseconds(1));
  EXPECT_EQ(host_->next(), SessionHost::Next::kCloseNow);
}

TEST_F(SessionHostTlsTest, TheImplicitPortHandshakesBeforeTheGreeting) {
  context_.implicit_tls_port = 990;
  open(990);
  EXPECT_TRUE(service_.implicit);
  EXPECT_EQ(wire(), "");  // the 220 waits for the handshake
  handshake();
  ASSERT_EQ(client_->state(), TlsFilter::State::kOpen) << client_->error();
  EXPECT_EQ(std::string(client_->plain().view()), "220 hi\n");
}

TEST_F(SessionHostTlsTest, APROXYHeaderComesBeforeTheImplicitHandshake) {
  context_.implicit_tls_port = 990;
  context_.options.proxy_protocol = ServerOptions::ProxyProtocol::kV1;
  context_.options.proxy_trusted = *Cidr::parse_list("127.0.0.0/8");
  open(990);
  EXPECT_EQ(service_.last, nullptr);  // no session before the header
  client_ = TlsFilter::client(client_ctx_, "localhost");
  client_->advance();
  // The header and the ClientHello in one read, as a balancer forwards them.
  std::string first =
      "PROXY TCP4 127.0.0.10 127.0.0.1 5000 990\r\n" + std::string(client_->cipher().view());
  client_->cipher().clear();
  host_->received(first);
  ASSERT_NE(service_.last, nullptr);
  EXPECT_TRUE(service_.implicit);
  EXPECT_EQ(host_->client().to_string(), "127.0.0.10:5000");
  client_->feed(wire());
  converse();
  ASSERT_EQ(client_->state(), TlsFilter::State::kOpen) << client_->error();
  EXPECT_EQ(std::string(client_->plain().view()), "220 hi\n");
}

TEST_F(SessionHostTlsTest, TheClientsCloseNotifyEndsTheInput) {
  open();
  host_->received("auth\n");
  wire();
  handshake();
  client_->close();
  converse();
  EXPECT_EQ(host_->next(), SessionHost::Next::kCloseWhenSent);
}

TEST_F(SessionHostTlsTest, EndTlsSendsTheLastReplyUnderTlsThenGoesBackToClear) {
  open();
  wire();
  host_->received("auth\n");
  wire();
  handshake();
  ASSERT_EQ(client_->state(), TlsFilter::State::kOpen) << client_->error();
  client_->write("rein\n");
  converse();
  // The 220 came as a record, and the host's close_notify after it.
  EXPECT_EQ(std::string(client_->plain().view()), "220 clear\n");
  EXPECT_TRUE(client_->peer_closed());
  // Sent under TLS before the client's close_notify: dropped, never seen by the session.
  client_->write("late\n");
  client_->close();
  client_->advance();
  std::string bytes(client_->cipher().view());
  client_->cipher().clear();
  // The first clear command rides in the same packet as the close_notify.
  host_->received(bytes + "clear\n");
  EXPECT_EQ(wire(), "echo:clear\n");
  host_->received("again\n");
  EXPECT_EQ(wire(), "echo:again\n");
  EXPECT_EQ(service_.last->received, "auth\nrein\nclear\nagain\n");
  EXPECT_EQ(host_->next(), SessionHost::Next::kServe);
  // And TLS may start again.
  host_->received("auth\n");
  EXPECT_EQ(wire(), "234 go\n");
  handshake();
  ASSERT_EQ(client_->state(), TlsFilter::State::kOpen) << client_->error();
  client_->write("hello\n");
  converse();
  EXPECT_EQ(std::string(client_->plain().view()), "echo:hello\n");
}

}  // namespace
}  // namespace nm
