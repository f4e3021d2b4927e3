#include <gtest/gtest.h>

#include <cerrno>
#include <system_error>

#include "net/address.hpp"
#include "net/socket.hpp"

namespace nm {
namespace {

int error_of_listening_again(const Address& address, const ListenOptions& options) {
  try {
    listen_on(address, options);
  } catch (const std::system_error& e) {
    return e.code().value();
  }
  return 0;
}

}  // namespace

// Every listener has SO_REUSEPORT (reactors need it), yet a second server on a port that one
// already serves must fail as it would without it, not share the port's connections.
TEST(ListenOn, APortSomeoneListensOnIsRefusedDespiteReusePort) {
  ListenOptions options{.backlog = 4, .reuse_port = true};
  Fd first = listen_on(*Address::from("127.0.0.1", 0), options);
  Address bound = local_address(first.get());
  ASSERT_NE(bound.port(), 0);
  EXPECT_EQ(error_of_listening_again(bound, options), EADDRINUSE);
  // The wildcard address on the same port conflicts too.
  auto wildcard = Address::from("0.0.0.0", bound.port());
  ASSERT_TRUE(wildcard);
  EXPECT_EQ(error_of_listening_again(*wildcard, options), EADDRINUSE);
}

TEST(ListenOn, ReactorsCopiesJoinTheirOwnPort) {
  ListenOptions options{.backlog = 4, .reuse_port = true};
  Fd first = listen_on(*Address::from("127.0.0.1", 0), options);
  Address bound = local_address(first.get());
  options.join = true;
  Fd copy = listen_on(bound, options);
  EXPECT_TRUE(copy);
  EXPECT_EQ(local_address(copy.get()).port(), bound.port());
}

TEST(ListenOn, APortFreedByAClosedListenerCanBeTakenAgain) {
  ListenOptions options{.backlog = 4, .reuse_port = true};
  Address bound;
  {
    Fd first = listen_on(*Address::from("127.0.0.1", 0), options);
    bound = local_address(first.get());
  }
  Fd again = listen_on(bound, options);
  EXPECT_EQ(local_address(again.get()).port(), bound.port());
}

}  // namespace nm
