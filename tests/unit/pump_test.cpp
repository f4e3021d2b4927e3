#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

#include "net/address.hpp"
#include "net/socket.hpp"
#include "transfer/pump.hpp"

namespace nm {
namespace {

// A temporary file holding `content`, opened read-write.
Fd temp_file(const std::string& content) {
  char name[] = "/tmp/netmodels-pump-XXXXXX";
  int fd = mkstemp(name);
  unlink(name);
  EXPECT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  lseek(fd, 0, SEEK_SET);
  return Fd(fd);
}

std::string read_all(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

// Runs the pump to its end over a socket pair, the peer end read or written by a thread.
struct PumpRun {
  DataPump::Outcome outcome;
  std::string peer_received;
};

// A connected TCP pair on loopback: uploads splice from TCP sockets, which behave unlike AF_UNIX.
void tcp_pair(int sv[2]) {
  Fd listener = listen_on(*Address::from("127.0.0.1", 0), ListenOptions{});
  ASSERT_TRUE(listener);
  sv[1] = connect_to(local_address(listener.get()), false).release();
  sv[0] = accept_connection(listener.get(), nullptr, false);
  ASSERT_GE(sv[1], 0);
  ASSERT_GE(sv[0], 0);
}

// `early`: bytes the driver had read before the pump began (what followed a PROXY header).
PumpRun run(TransferRequest request, const std::string& peer_sends = "", bool tcp = false,
            std::string early = {}) {
  int sv[2] = {-1, -1};
  if (tcp) {
    tcp_pair(sv);
  } else {
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  }
  Fd ours(sv[0]), theirs(sv[1]);
  fcntl(ours.get(), F_SETFL, O_NONBLOCK);
  PumpRun result;
  std::thread peer([&] {
    if (!peer_sends.empty()) {
      EXPECT_EQ(::write(theirs.get(), peer_sends.data(), peer_sends.size()),
                static_cast<ssize_t>(peer_sends.size()));
      shutdown(theirs.get(), SHUT_WR);
    } else {
      result.peer_received = read_all(theirs.get());
    }
  });
  DataPump pump(std::move(request), std::move(early));
  DataPump::Outcome outcome;
  do {
    outcome = pump.step(ours.get(), 1 << 20);
    if (outcome == DataPump::Outcome::kWouldBlock) std::this_thread::yield();
  } while (outcome == DataPump::Outcome::kWouldBlock || outcome == DataPump::Outcome::kBudgetSpent);
  ours.reset();
  peer.join();
  result.outcome = outcome;
  return result;
}

TEST(DataPump, SendsFileFromOffsetWithSendfile) {
  std::string content(3 << 20, 'a');
  for (size_t i = 0; i < content.size(); i += 7) content[i] = static_cast<char>(i % 251);
  TransferRequest request;
  request.file = temp_file(content);
  request.offset = 1000;
  auto r = run(std::move(request));
  EXPECT_EQ(r.outcome, DataPump::Outcome::kDone);
  EXPECT_EQ(r.peer_received, content.substr(1000));
}

TEST(DataPump, SendsListingFromMemory) {
  TransferRequest request;
  request.memory = "a.txt\r\nb.txt\r\n";
  auto r = run(std::move(request));
  EXPECT_EQ(r.outcome, DataPump::Outcome::kDone);
  EXPECT_EQ(r.peer_received, "a.txt\r\nb.txt\r\n");
}

TEST(DataPump, AsciiSendConvertsLineEnds) {
  TransferRequest request;
  request.file = temp_file("one\ntwo\n");
  request.ascii = true;
  auto r = run(std::move(request));
  EXPECT_EQ(r.peer_received, "one\r\ntwo\r\n");
}

// An upload of `content` into `file`: the pump's outcome, and what the file then holds, read
// through a descriptor of its own (the pump closes the one it was given).
struct Upload {
  DataPump::Outcome outcome;
  std::string stored;
};

Upload upload(Fd file, int read_back, const std::string& content, bool tcp) {
  TransferRequest request;
  request.direction = TransferRequest::Direction::kReceive;
  request.file = std::move(file);
  auto r = run(std::move(request), content, tcp);
  lseek(read_back, 0, SEEK_SET);
  return {r.outcome, read_all(read_back)};
}

TEST(DataPump, ReceivesIntoFile) {
  std::string content(2 << 20, 'q');
  Fd file = temp_file("");
  Fd keep(dup(file.get()));
  auto up = upload(std::move(file), keep.get(), content, false);
  EXPECT_EQ(up.outcome, DataPump::Outcome::kDone);
  EXPECT_EQ(up.stored, content);
}

// --proxy-protocol-data: the bytes that shared the header's segment come first, on the splice
// path (TCP) and the recv + write one (AF_UNIX), converted for TYPE A like the rest.
TEST(DataPump, StoresEarlyBytesBeforeWhatItReads) {
  for (bool tcp : {true, false}) {
    Fd file = temp_file("");
    Fd keep(dup(file.get()));
    TransferRequest request;
    request.direction = TransferRequest::Direction::kReceive;
    request.file = std::move(file);
    std::string rest(300000, 'r');
    auto r = run(std::move(request), rest, tcp, "first bytes ");
    EXPECT_EQ(r.outcome, DataPump::Outcome::kDone);
    lseek(keep.get(), 0, SEEK_SET);
    EXPECT_EQ(read_all(keep.get()), "first bytes " + rest) << "tcp=" << tcp;
  }
  Fd file = temp_file("");
  Fd keep(dup(file.get()));
  TransferRequest request;
  request.direction = TransferRequest::Direction::kReceive;
  request.file = std::move(file);
  request.ascii = true;
  auto r = run(std::move(request), "\nb\r\n", false, "a\r");
  EXPECT_EQ(r.outcome, DataPump::Outcome::kDone);
  lseek(keep.get(), 0, SEEK_SET);
  EXPECT_EQ(read_all(keep.get()), "a\nb\n");
}

TEST(DataPump, DownloadDropsEarlyBytes) {
  TransferRequest request;
  request.memory = "listing\r\n";
  auto r = run(std::move(request), "", false, "stray");
  EXPECT_EQ(r.outcome, DataPump::Outcome::kDone);
  EXPECT_EQ(r.peer_received, "listing\r\n");
}

// Bytes no two positions alike within a chunk, so a lost or repeated piece shows.
std::string patterned(size_t size) {
  std::string content(size, '\0');
  for (size_t i = 0; i < size; ++i) content[i] = static_cast<char>((i * 31 + i / 4093) % 253);
  return content;
}

TEST(DataPump, ReceivesOverTcpIntact) {
  std::string content = patterned(9 << 20);
  Fd file = temp_file("");
  Fd keep(dup(file.get()));
  auto up = upload(std::move(file), keep.get(), content, true);
  EXPECT_EQ(up.outcome, DataPump::Outcome::kDone);
  EXPECT_EQ(up.stored.size(), content.size());
  EXPECT_TRUE(up.stored == content) << "the stored bytes differ from those sent";
}

TEST(DataPump, AppendsToAnAppendOnlyFile) {
  // APPE opens files O_APPEND, which some kernels refuse to splice(2) into: the pump then copies
  // by hand, losing nothing already in its pipe. Either way the bytes land after the old ones.
  char name[] = "/tmp/netmodels-pump-XXXXXX";
  Fd created(mkstemp(name));
  ASSERT_TRUE(created);
  ASSERT_EQ(::write(created.get(), "head:", 5), 5);
  Fd file(::open(name, O_WRONLY | O_APPEND | O_CLOEXEC));
  unlink(name);
  std::string content = patterned(3 << 20);
  auto up = upload(std::move(file), created.get(), content, true);
  EXPECT_EQ(up.outcome, DataPump::Outcome::kDone);
  EXPECT_TRUE(up.stored == "head:" + content) << "the old bytes or the appended ones are wrong";
}

TEST(DataPump, FullDiskIsAFileError) {
  Fd full(::open("/dev/full", O_WRONLY | O_CLOEXEC));
  if (!full) GTEST_SKIP() << "no /dev/full";
  TransferRequest request;
  request.direction = TransferRequest::Direction::kReceive;
  request.file = std::move(full);
  auto r = run(std::move(request), std::string(1000, 'x'));
  EXPECT_EQ(r.outcome, DataPump::Outcome::kFileError);
}

}  // namespace
}  // namespace nm
