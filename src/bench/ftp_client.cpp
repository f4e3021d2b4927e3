#include "bench/ftp_client.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "client/data_address.hpp"
#include "client/ftp_reply.hpp"
#include "client/tls_channel.hpp"
#include "net/socket.hpp"

namespace nm::bench {
namespace {

constexpr size_t kChunk = 256 * 1024;
constexpr size_t kKeepErrors = 5;

// Whether a socket answered EAGAIN (true) or something worse (false): n < 0 only.
bool would_block() {
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

// Bytes sent by STOR: a fixed pattern, the same for every server.
const std::string& upload_chunk() {
  static const std::string chunk = [] {
    std::string s(kChunk, '\0');
    for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
    return s;
  }();
  return chunk;
}

// Closes with a RST once the server has said all it had to say (data EOF, 221). The server, which
// closed first, would otherwise keep its end in TIME_WAIT for a minute: at hundreds of sessions a
// second, three connections each, that is more 4-tuples than loopback has ephemeral ports, and a
// SYN meeting a TIME_WAIT end may be refused and retried a second later (Linux randomises TCP
// timestamps per connection), a kernel artefact that would swamp every server's figures alike.
// Never used where the client must signal EOF (STOR's data connection).
void reset_instead_of_fin(int fd) {
  linger lg{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

}  // namespace

void FtpCounters::merge(const FtpCounters& o) {
  sessions += o.sessions;
  failures += o.failures;
  transfers += o.transfers;
  transfer_bytes += o.transfer_bytes;
  transfer_ns += o.transfer_ns;
  retr_bytes += o.retr_bytes;
  retr_ns += o.retr_ns;
  stor_bytes += o.stor_bytes;
  stor_ns += o.stor_ns;
  last_hold_ns = std::max(last_hold_ns, o.last_hold_ns);
  last_end_ns = std::max(last_end_ns, o.last_end_ns);
  held += o.held;
  session_ns.merge(o.session_ns);
  for (const auto& e : o.errors) {
    if (errors.size() < kKeepErrors) errors.push_back(e);
  }
}

// One client. Its phase says which reply, or which data event, it waits for.
struct FtpClient {
  enum class Phase {
    kIdle,        // no connection (before the first run, or after QUIT)
    kConnecting,  // control connection in progress
    kGreeting,
    kAuth,       // AUTH TLS sent
    kHandshake,  // the TLS handshake on the control connection
    kUser,
    kPass,
    kSimple,  // TYPE or NOOP: a 2xx ends the step
    kPasv,
    kTransfer,  // command sent: waiting for 1xx, the data to end and the final reply
    kQuit,
    kHolding,
    kDead,
  };

  // epoll hands back one of these: which connection of which client is ready.
  struct Side {
    FtpClient* client;
    bool data;
  };

  FtpWorker* worker;
  Side control_side{this, false};
  Side data_side{this, true};
  Fd control;
  client::SslPtr tls;  // the control connection's, once AUTH TLS was answered
  Fd data;
  Phase phase = Phase::kIdle;
  client::ReplyParser replies;
  std::string pending;  // control bytes not yet accepted by the socket
  size_t step = 0;
  // Bumped by every new control connection: a handler that ended a session and started the next
  // must stop reading, the bytes it would read belong to the new one.
  uint64_t generation = 0;
  int failures_in_a_row = 0;
  uint64_t session_start_ns = 0;
  // The transfer under way.
  bool data_connected = false;
  bool data_done = false;
  bool reply_done = false;
  bool preliminary_seen = false;
  uint64_t data_bytes = 0;
  uint64_t upload_left = 0;
  uint64_t transfer_start_ns = 0;

  explicit FtpClient(FtpWorker* w) : worker(w) {}

  const FtpWorkerOptions& options() const { return *worker->options_; }
  const Step& current() const { return options().script[step]; }
  FtpCounters& counters() { return worker->counters_; }

  // Starts, or continues from a hold, the script of the current run().
  void start() {
    step = 0;
    if (phase == Phase::kHolding) {
      ++worker->active_;
      return begin_step();
    }
    if (phase != Phase::kIdle) return;
    ++worker->active_;
    connect();
  }

  void connect() {
    session_start_ns = now_ns();
    ++generation;
    control = connect_to(worker->target_.address, true);
    if (!control) return fail(fmt::format("connect: {}", std::strerror(errno)));
    phase = Phase::kConnecting;
    worker->epoll_.add(control.get(), EPOLLIN | EPOLLOUT, &control_side);
  }

  void finish_run() {
    --worker->active_;
    worker->start_more();
  }

  void close_data(bool after_server_eof = false) {
    if (!data) return;
    worker->epoll_.remove(data.get());
    if (after_server_eof) reset_instead_of_fin(data.get());
    data.reset();
  }

  void close_all(bool after_server_eof = false) {
    close_data(after_server_eof);
    tls.reset();
    if (control) {
      worker->epoll_.remove(control.get());
      if (after_server_eof) reset_instead_of_fin(control.get());
      control.reset();
    }
    pending.clear();
    replies.reset();
  }

  void fail(const std::string& why) {
    // A held client already left the run; its loss shows in the next run's checks.
    bool running = phase != Phase::kHolding && phase != Phase::kDead;
    ++counters().failures;
    if (counters().errors.size() < kKeepErrors) counters().errors.push_back(why);
    close_all();
    ++failures_in_a_row;
    // A server that refuses every connection must not turn the load loop into a spin.
    if (options().loop && failures_in_a_row < 3 && now_ns() < options().end_ns) {
      phase = Phase::kIdle;
      step = 0;
      return connect();
    }
    phase = Phase::kDead;
    if (running) finish_run();
  }

  void send_command(const std::string& line) {
    pending += line;
    pending += "\r\n";
    flush();
  }

  void flush() {
    bool want_out = false;
    while (!pending.empty()) {
      if (tls) {
        ERR_clear_error();
        int n = SSL_write(tls.get(), pending.data(), static_cast<int>(pending.size()));
        if (n > 0) {
          pending.erase(0, static_cast<size_t>(n));
          continue;
        }
        int error = SSL_get_error(tls.get(), n);
        if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) {
          want_out = error == SSL_ERROR_WANT_WRITE;
          break;
        }
        return fail("control send: TLS: " + client::openssl_error());
      }
      ssize_t n = ::send(control.get(), pending.data(), pending.size(), MSG_NOSIGNAL);
      if (n > 0) {
        pending.erase(0, static_cast<size_t>(n));
      } else if (n < 0 && would_block()) {
        want_out = true;
        break;
      } else {
        return fail(fmt::format("control send: {}", std::strerror(errno)));
      }
    }
    watch_control(want_out);
  }

  void watch_control(bool want_out) {
    worker->epoll_.modify(control.get(), EPOLLIN | (want_out ? EPOLLOUT : 0u), &control_side);
  }

  // After 234: the handshake, driven by the control connection's events. A full one every time:
  // the client context keeps no sessions, as a new client has none.
  void start_tls() {
    tls = client::new_client_ssl(*worker->target_.tls, control.get(),
                                 worker->target_.address.host(), nullptr);
    if (!tls) return fail("TLS: " + client::openssl_error());
    phase = Phase::kHandshake;
    continue_handshake();
  }

  void continue_handshake() {
    ERR_clear_error();
    int rc = SSL_connect(tls.get());
    if (rc == 1) return next_step();
    int error = SSL_get_error(tls.get(), rc);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
      return watch_control(error == SSL_ERROR_WANT_WRITE);
    }
    std::string problem = client::certificate_problem(tls.get());
    fail(!problem.empty() ? "TLS: certificate not accepted: " + problem
                          : "TLS handshake: " + client::openssl_error());
  }

  // Reads control bytes into the reply parser: > 0 bytes read, 0 the server's end of the
  // stream, -1 nothing now (the caller returns to the loop), -2 failed (fail() was called).
  ssize_t read_control() {
    constexpr size_t kRead = 4096;
    if (!tls) {
      ssize_t n = ::recv(control.get(), replies.reserve(kRead), kRead, 0);
      if (n >= 0) return n;
      if (would_block()) return -1;
      fail(fmt::format("control recv: {}", std::strerror(errno)));
      return -2;
    }
    ERR_clear_error();
    int n = SSL_read(tls.get(), replies.reserve(kRead), static_cast<int>(kRead));
    if (n > 0) return n;
    int error = SSL_get_error(tls.get(), n);
    if (error == SSL_ERROR_ZERO_RETURN || (error == SSL_ERROR_SYSCALL && errno == 0)) return 0;
    if (error == SSL_ERROR_WANT_READ) return -1;
    if (error == SSL_ERROR_WANT_WRITE) {
      watch_control(true);
      return -1;
    }
    fail("control recv: TLS: " + client::openssl_error());
    return -2;
  }

  void begin_step() {
    if (step >= options().script.size()) return end_script();
    const Step& s = current();
    switch (s.kind) {
      case StepKind::kAuthTls:
        if (!worker->target_.tls) return fail("AUTH TLS step without a TLS target");
        phase = Phase::kAuth;
        return send_command("AUTH TLS");
      case StepKind::kLogin:
        phase = Phase::kUser;
        return send_command("USER " + worker->target_.user);
      case StepKind::kTypeImage:
        phase = Phase::kSimple;
        return send_command("TYPE I");
      case StepKind::kNoop:
        phase = Phase::kSimple;
        return send_command("NOOP");
      case StepKind::kList:
      case StepKind::kRetr:
      case StepKind::kStor:
        phase = Phase::kPasv;
        return send_command("PASV");
      case StepKind::kQuit:
        phase = Phase::kQuit;
        return send_command("QUIT");
      case StepKind::kHold:
        phase = Phase::kHolding;
        ++counters().held;
        counters().last_hold_ns = std::max(counters().last_hold_ns, now_ns());
        return finish_run();
    }
  }

  void next_step() {
    ++step;
    begin_step();
  }

  void end_script() {
    uint64_t now = now_ns();
    counters().last_end_ns = std::max(counters().last_end_ns, now);
    if (now >= options().window_start_ns && now < options().end_ns) {
      ++counters().sessions;
      counters().session_ns.record(now - session_start_ns);
    }
    failures_in_a_row = 0;
    close_all(/*after_server_eof=*/true);
    phase = Phase::kIdle;
    if (options().loop && now < options().end_ns) {
      step = 0;
      return connect();
    }
    finish_run();
  }

  void on_control_event() {
    if (phase == Phase::kConnecting) {
      int err = 0;
      socklen_t len = sizeof(err);
      ::getsockopt(control.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) return fail(fmt::format("connect: {}", std::strerror(err)));
      set_nodelay(control.get());
      phase = Phase::kGreeting;
      worker->epoll_.modify(control.get(), EPOLLIN, &control_side);
    }
    if (!pending.empty()) {
      flush();
      if (!control) return;
    }
    if (phase == Phase::kConnecting) return;
    if (phase == Phase::kHandshake) {
      continue_handshake();
      if (!control || phase == Phase::kHandshake) return;
    }
    const uint64_t mine = generation;
    auto still_mine = [&] { return control && generation == mine; };
    for (;;) {
      ssize_t n = read_control();
      if (n == 0) {
        // The server may close right after answering QUIT.
        if (phase == Phase::kQuit) return end_script();
        return fail("control connection closed by the server");
      }
      if (n < 0) return;
      replies.commit(static_cast<size_t>(n));
      while (still_mine()) {
        std::optional<client::Reply> reply;
        try {
          reply = replies.next();
        } catch (const client::ProtocolError& e) {
          return fail(e.what());
        }
        if (!reply) break;
        on_reply(reply->code, reply->lines.back());
        // AUTH TLS answered: what follows on this connection is the handshake's.
        if (phase == Phase::kHandshake) return;
      }
      if (!still_mine()) return;
    }
  }

  void on_reply(int code, const std::string& text) {
    switch (phase) {
      case Phase::kGreeting:
        if (code == 220) return begin_step();
        if (code / 100 == 1) return;
        return fail("greeting: " + text);
      case Phase::kAuth:
        if (code == 234) return start_tls();
        return fail("AUTH TLS: " + text);
      case Phase::kUser:
        if (code == 331 || code == 332) {
          phase = Phase::kPass;
          return send_command("PASS " + worker->target_.password);
        }
        if (code == 230) return next_step();
        return fail("USER: " + text);
      case Phase::kPass:
        if (code == 230 || code == 202) return next_step();
        return fail("PASS: " + text);
      case Phase::kSimple:
        if (code / 100 == 2) return next_step();
        return fail(text);
      case Phase::kPasv:
        if (code == 227) return open_data(text);
        return fail("PASV: " + text);
      case Phase::kTransfer:
        if (code / 100 == 1) {
          preliminary_seen = true;
          return;
        }
        if (code / 100 == 2) {
          reply_done = true;
          return maybe_transfer_done();
        }
        return fail(
            fmt::format("{}: {}", current().kind == StepKind::kStor ? "STOR" : "RETR/LIST", text));
      case Phase::kQuit:
        return end_script();
      case Phase::kHolding:
        return;  // unsolicited (e.g. a 421 before an idle timeout close): seen on the next step
      default:
        return fail("unexpected reply: " + text);
    }
  }

  void open_data(const std::string& text) {
    // The host in the reply is ignored: the data connection goes to the control connection's
    // host, as curl does by default, so a server announcing a wrong address is measured all the
    // same.
    auto announced = client::parse_pasv_reply(text);
    if (!announced) return fail("unreadable PASV reply: " + text);
    Address address = worker->target_.address;
    address.set_port(announced->port);
    data = connect_to(address, true);
    if (!data) return fail(fmt::format("data connect: {}", std::strerror(errno)));
    data_connected = data_done = reply_done = preliminary_seen = false;
    data_bytes = 0;
    const Step& s = current();
    upload_left = s.kind == StepKind::kStor ? s.bytes : 0;
    worker->epoll_.add(data.get(), EPOLLIN | EPOLLOUT, &data_side);
    phase = Phase::kTransfer;
    transfer_start_ns = now_ns();
    switch (s.kind) {
      case StepKind::kList:
        return send_command("LIST");
      case StepKind::kRetr:
        return send_command("RETR " + s.path);
      default:
        return send_command("STOR " + s.path);
    }
  }

  void on_data_event() {
    if (!data_connected) {
      int err = 0;
      socklen_t len = sizeof(err);
      ::getsockopt(data.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) return fail(fmt::format("data connect: {}", std::strerror(err)));
      data_connected = true;
      bool upload = current().kind == StepKind::kStor;
      worker->epoll_.modify(data.get(), upload ? EPOLLOUT : EPOLLIN, &data_side);
    }
    if (current().kind == StepKind::kStor) return upload();
    download();
  }

  void download() {
    static thread_local std::vector<char> sink(kChunk);
    for (;;) {
      ssize_t n = ::recv(data.get(), sink.data(), sink.size(), 0);
      if (n > 0) {
        data_bytes += static_cast<uint64_t>(n);
      } else if (n == 0) {
        close_data(/*after_server_eof=*/true);
        data_done = true;
        return maybe_transfer_done();
      } else if (would_block()) {
        return;
      } else {
        return fail(fmt::format("data recv: {}", std::strerror(errno)));
      }
    }
  }

  void upload() {
    const std::string& chunk = upload_chunk();
    while (upload_left > 0) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(upload_left, chunk.size()));
      ssize_t n = ::send(data.get(), chunk.data(), want, MSG_NOSIGNAL);
      if (n > 0) {
        upload_left -= static_cast<uint64_t>(n);
        data_bytes += static_cast<uint64_t>(n);
      } else if (n < 0 && would_block()) {
        return;
      } else {
        return fail(fmt::format("data send: {}", std::strerror(errno)));
      }
    }
    // EOF ends an upload in stream mode.
    close_data();
    data_done = true;
    maybe_transfer_done();
  }

  void maybe_transfer_done() {
    if (!data_done || !reply_done) return;
    uint64_t ns = now_ns() - transfer_start_ns;
    auto& c = counters();
    ++c.transfers;
    c.transfer_bytes += data_bytes;
    c.transfer_ns += ns;
    if (current().kind == StepKind::kRetr) {
      c.retr_bytes += data_bytes;
      c.retr_ns += ns;
    } else if (current().kind == StepKind::kStor) {
      c.stor_bytes += data_bytes;
      c.stor_ns += ns;
    }
    next_step();
  }

  void time_out() {
    if (phase == Phase::kIdle || phase == Phase::kHolding || phase == Phase::kDead) return;
    fail(fmt::format("timed out (phase {})", static_cast<int>(phase)));
  }
};

FtpWorker::FtpWorker(const Target& target, int clients) : target_(target) {
  for (int i = 0; i < clients; ++i) clients_.push_back(std::make_unique<FtpClient>(this));
}

void FtpWorker::start_more() {
  // A client failing at once would call back in here: the outer loop carries on instead, so a
  // refused burst does not nest one call per client.
  if (starting_) return;
  starting_ = true;
  size_t limit =
      options_->max_starting > 0 ? static_cast<size_t>(options_->max_starting) : clients_.size();
  while (next_to_start_ < clients_.size() && static_cast<size_t>(active_) < limit) {
    clients_[next_to_start_++]->start();
  }
  starting_ = false;
}

FtpWorker::~FtpWorker() = default;

void FtpWorker::run(const FtpWorkerOptions& options) {
  options_ = &options;
  active_ = 0;
  counters_ = FtpCounters();
  next_to_start_ = 0;
  start_more();
  std::vector<epoll_event> events(256);
  while ((active_ > 0 || next_to_start_ < clients_.size()) && now_ns() < options.end_ns) {
    int n = epoll_.wait(events.data(), static_cast<int>(events.size()), 50);
    for (int i = 0; i < n; ++i) {
      auto* side = static_cast<FtpClient::Side*>(events[i].data.ptr);
      FtpClient* c = side->client;
      if (side->data) {
        // A stale event for a data connection already closed in this batch.
        if (c->data) c->on_data_event();
      } else if (c->control) {
        c->on_control_event();
      }
    }
  }
  // A loop ends with sessions in flight: not failures, just cut off.
  bool cut = options.loop;
  for (auto& c : clients_) {
    if (cut) {
      if (c->phase != FtpClient::Phase::kDead) {
        c->close_all();
        c->phase = FtpClient::Phase::kIdle;
      }
    } else {
      c->time_out();
    }
  }
  options_ = nullptr;
}

}  // namespace nm::bench
