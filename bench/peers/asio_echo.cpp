// The reference echo server: standalone Asio written the way its own examples recommend, one
// io_context per thread (no locks, no handler hand-off between cores) with SO_REUSEPORT listeners
// so the kernel spreads connections over the threads, as the `reactors` model does with epoll.
#include <array>
#include <asio.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using asio::ip::tcp;

// One connection: read what arrived, write all of it back, read again. A single buffer suffices
// because the reply must leave before more is read (a slow reader stops being read).
class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : socket_(std::move(socket)) {}

  void start() {
    asio::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    read();
  }

 private:
  void read() {
    socket_.async_read_some(asio::buffer(buffer_),
                            [self = shared_from_this()](asio::error_code ec, size_t n) {
                              if (!ec) self->write(n);
                            });
  }

  void write(size_t n) {
    asio::async_write(socket_, asio::buffer(buffer_, n),
                      [self = shared_from_this()](asio::error_code ec, size_t) {
                        if (!ec) self->read();
                      });
  }

  tcp::socket socket_;
  // 16 KiB moves a bulk echo in few calls. The price: async_read_some reads into memory the
  // session owns, so an idle session keeps its buffer (touched only as far as data ever reached).
  std::array<char, 16 * 1024> buffer_;
};

void accept_loop(tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](asio::error_code ec, tcp::socket socket) {
    if (!ec) std::make_shared<Session>(std::move(socket))->start();
    // EMFILE and friends: keep accepting; the listener itself is still good.
    if (ec != asio::error::operation_aborted) accept_loop(acceptor);
  });
}

struct Args {
  std::string host = "127.0.0.1";
  unsigned short port = 7007;
  int threads = 0;
};

bool parse_listen(const std::string& text, Args* args) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  args->host = text.substr(0, colon);
  if (args->host.size() >= 2 && args->host.front() == '[') {
    args->host = args->host.substr(1, args->host.size() - 2);
  }
  char* end = nullptr;
  long port = std::strtol(text.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || port < 0 || port > 65535) return false;
  args->port = static_cast<unsigned short>(port);
  return true;
}

int usage() {
  std::cerr << "usage: asio_echo [--listen HOST:PORT] [--threads N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--listen" && i + 1 < argc) {
      if (!parse_listen(argv[++i], &args)) return usage();
    } else if (arg == "--threads" && i + 1 < argc) {
      args.threads = std::atoi(argv[++i]);
    } else {
      return usage();
    }
  }
  if (args.threads <= 0) args.threads = static_cast<int>(std::thread::hardware_concurrency());
  if (args.threads <= 0) args.threads = 1;

  try {
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
    tcp::endpoint endpoint(asio::ip::make_address(args.host), args.port);
    for (int i = 0; i < args.threads; ++i) {
      contexts.push_back(std::make_unique<asio::io_context>(1));
      auto acceptor = std::make_unique<tcp::acceptor>(*contexts.back());
      acceptor->open(endpoint.protocol());
      acceptor->set_option(tcp::acceptor::reuse_address(true));
      int one = 1;
      if (::setsockopt(acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) !=
          0) {
        throw std::runtime_error(std::string("SO_REUSEPORT: ") + std::strerror(errno));
      }
      acceptor->bind(endpoint);
      acceptor->listen(asio::socket_base::max_listen_connections);
      // Port 0: the first listener picks the port, the others join it.
      endpoint = acceptor->local_endpoint();
      acceptors.push_back(std::move(acceptor));
    }
    std::printf("listening on %s:%u\n", endpoint.address().to_string().c_str(),
                static_cast<unsigned>(endpoint.port()));
    std::fflush(stdout);

    asio::signal_set signals(*contexts.front(), SIGINT, SIGTERM);
    signals.async_wait([&contexts](asio::error_code, int) {
      for (auto& c : contexts) c->stop();
    });
    for (auto& a : acceptors) accept_loop(*a);
    std::vector<std::thread> threads;
    for (size_t i = 1; i < contexts.size(); ++i) {
      threads.emplace_back([&contexts, i] { contexts[i]->run(); });
    }
    contexts.front()->run();
    for (auto& t : threads) t.join();
  } catch (const std::exception& e) {
    std::cerr << "asio_echo: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
