#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <memory>

#include "net/fd.hpp"
#include "reactor/poller.hpp"

namespace nm {
namespace {

struct Backend {
  const char* name;
  std::function<std::unique_ptr<Poller>()> make;
};

class PollerTest : public ::testing::TestWithParam<Backend> {};

unsigned events_for(Poller& poller, int fd, int timeout_ms = 0) {
  std::vector<ReadyEvent> ready;
  poller.wait(ready, timeout_ms);
  unsigned events = 0;
  for (auto& e : ready) {
    if (e.fd == fd) events |= e.events;
  }
  return events;
}

TEST_P(PollerTest, ReportsReadableAndWritableAsAsked) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  Fd a(sv[0]), b(sv[1]);
  auto poller = GetParam().make();
  ASSERT_TRUE(poller->add(a.get(), kReadable));
  EXPECT_EQ(events_for(*poller, a.get()), 0u);
  ASSERT_EQ(::write(b.get(), "x", 1), 1);
  EXPECT_TRUE(events_for(*poller, a.get(), 1000) & kReadable);
  poller->modify(a.get(), kWritable);
  EXPECT_TRUE(events_for(*poller, a.get(), 1000) & kWritable);
  poller->remove(a.get());
  EXPECT_EQ(events_for(*poller, a.get()), 0u);
}

TEST_P(PollerTest, ReportsPeerClose) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  Fd a(sv[0]), b(sv[1]);
  auto poller = GetParam().make();
  ASSERT_TRUE(poller->add(a.get(), kReadable));
  b.reset();
  EXPECT_TRUE(events_for(*poller, a.get(), 1000) & (kReadable | kHangup));
}

INSTANTIATE_TEST_SUITE_P(
    Backends, PollerTest,
    ::testing::Values(Backend{"select", make_select_poller}, Backend{"poll", make_poll_poller},
                      Backend{"epoll", [] { return make_epoll_poller(false); }},
                      Backend{"epoll_et", [] { return make_epoll_poller(true); }}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(SelectPoller, RefusesDescriptorsPastFdSetsize) {
  auto poller = make_select_poller();
  EXPECT_FALSE(poller->add(FD_SETSIZE, kReadable));
  EXPECT_FALSE(poller->add(FD_SETSIZE + 100, kReadable));
}

}  // namespace
}  // namespace nm
