#include <gtest/gtest.h>
#include <sys/socket.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "uring/recv_buffers.hpp"
#include "uring/ring.hpp"

namespace nm::uring {
namespace {

// The kernel may refuse io_uring (kernel.io_uring_disabled, a seccomp policy): then these tests
// are skipped with the reason, not failed.
std::unique_ptr<Ring> make_ring_or_skip_reason(std::string* reason) {
  try {
    return std::make_unique<Ring>(64);
  } catch (const std::runtime_error& e) {
    *reason = e.what();
    return nullptr;
  }
}

#define RING_OR_SKIP(name)                            \
  std::string skip_reason;                            \
  auto name = make_ring_or_skip_reason(&skip_reason); \
  if (!name) GTEST_SKIP() << skip_reason;

struct Recorder final : Completion {
  struct Seen {
    uint8_t kind;
    int res;
    unsigned flags;
  };
  std::vector<Seen> seen;
  void complete(Operation& op, const io_uring_cqe& cqe) override {
    seen.push_back({op.kind, cqe.res, cqe.flags});
  }
};

TEST(UringRing, DispatchesEachCompletionToItsOperation) {
  RING_OR_SKIP(ring);
  Recorder recorder;
  Operation a{&recorder, 1};
  Operation b{&recorder, 2};
  io_uring_prep_nop(ring->prepare(a));
  io_uring_prep_nop(ring->prepare(b));
  EXPECT_TRUE(a.busy);
  while (recorder.seen.size() < 2) ring->run_once(std::chrono::milliseconds(1000));
  EXPECT_FALSE(a.busy);
  EXPECT_FALSE(b.busy);
  std::vector<uint8_t> kinds{recorder.seen[0].kind, recorder.seen[1].kind};
  std::sort(kinds.begin(), kinds.end());
  EXPECT_EQ(kinds, (std::vector<uint8_t>{1, 2}));
}

TEST(UringRing, TimerExpiresWithEtime) {
  RING_OR_SKIP(ring);
  Recorder recorder;
  TimerOp timer{{&recorder, 7}};
  ring->arm_timer(timer, std::chrono::milliseconds(10));
  while (recorder.seen.empty()) ring->run_once(std::chrono::milliseconds(1000));
  EXPECT_EQ(recorder.seen[0].res, -ETIME);
  EXPECT_FALSE(timer.op.busy);
}

TEST(UringRing, CancelledRecvReportsEcanceledAndFreesTheOperation) {
  RING_OR_SKIP(ring);
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  Recorder recorder;
  Operation recv{&recorder, 3};
  char buffer[16];
  io_uring_prep_recv(ring->prepare(recv), pair[0], buffer, sizeof buffer, 0);
  ring->submit();
  ring->cancel(recv);
  while (recorder.seen.empty()) ring->run_once(std::chrono::milliseconds(1000));
  EXPECT_EQ(recorder.seen[0].res, -ECANCELED);
  EXPECT_FALSE(recv.busy);
  ::close(pair[0]);
  ::close(pair[1]);
}

TEST(UringRing, RunOnceReturnsFalseWhenNothingCompletes) {
  RING_OR_SKIP(ring);
  EXPECT_FALSE(ring->run_once(std::chrono::milliseconds(10)));
}

TEST(UringRecvBuffers, KernelPicksAPooledBufferAndItCanBeReused) {
  RING_OR_SKIP(ring);
  RecvBuffers buffers(*ring, 2, 64, 5);
  if (!buffers.available()) GTEST_SKIP() << "this kernel has no provided-buffer rings";
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  Recorder recorder;
  Operation recv{&recorder, 4};
  // More receives than buffers: each buffer must come back to the pool for the next one.
  for (int i = 0; i < 5; ++i) {
    std::string message = "message " + std::to_string(i);
    ASSERT_EQ(::send(pair[1], message.data(), message.size(), 0),
              static_cast<ssize_t>(message.size()));
    io_uring_sqe* sqe = ring->prepare(recv);
    io_uring_prep_recv(sqe, pair[0], nullptr, buffers.buffer_size(), 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = buffers.group();
    recorder.seen.clear();
    while (recorder.seen.empty()) ring->run_once(std::chrono::milliseconds(1000));
    const auto& seen = recorder.seen[0];
    ASSERT_EQ(seen.res, static_cast<int>(message.size()));
    ASSERT_TRUE(seen.flags & IORING_CQE_F_BUFFER);
    auto id = static_cast<uint16_t>(seen.flags >> IORING_CQE_BUFFER_SHIFT);
    EXPECT_EQ(buffers.view(id, static_cast<size_t>(seen.res)), message);
    buffers.give_back(id);
  }
  ::close(pair[0]);
  ::close(pair[1]);
}

}  // namespace
}  // namespace nm::uring
