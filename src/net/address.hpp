#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nm {

// An IPv4 or IPv6 socket address.
class Address {
 public:
  Address() = default;
  Address(const sockaddr* sa, socklen_t len);

  // "HOST:PORT", "[V6]:PORT" or "V6" with a port; HOST must be a numeric address or "localhost".
  static std::optional<Address> parse(std::string_view host_port);
  // A numeric host and a port.
  static std::optional<Address> from(std::string_view host, uint16_t port);

  int family() const { return storage_.sa.sa_family; }
  bool is_v4() const { return family() == AF_INET; }
  bool is_v6() const { return family() == AF_INET6; }
  // True for an IPv4-mapped IPv6 address (::ffff:a.b.c.d).
  bool is_v4_mapped() const;
  uint16_t port() const;
  void set_port(uint16_t port);
  // The numeric host, without brackets.
  std::string host() const;
  // "1.2.3.4:80" or "[::1]:80".
  std::string to_string() const;
  // True when both name the same host, whatever the ports (v4 and v4-mapped v6 compare equal).
  bool same_host(const Address& other) const;

  const sockaddr* sa() const { return &storage_.sa; }
  sockaddr* sa() { return &storage_.sa; }
  socklen_t len() const { return len_; }
  socklen_t* len_ptr() { return &len_; }
  socklen_t capacity() const { return sizeof(storage_); }

 private:
  // IPv4 or IPv6 only: 28 bytes where sockaddr_storage takes 128, and every session holds several
  // addresses (an idle FTP session's whole cost is a few hundred bytes). The largest member
  // first, so that value-initialisation zeroes all of it.
  union Storage {
    sockaddr_in6 v6;
    sockaddr_in v4;
    sockaddr sa;
  };
  Storage storage_{};
  socklen_t len_ = 0;
};

Address local_address(int fd);
Address peer_address(int fd);

}  // namespace nm
