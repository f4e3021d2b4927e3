#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "net/address.hpp"

namespace nm {

// Counts open connections, in total and per peer host, against --max-clients and --max-per-ip.
// Thread-safe: the threaded models admit from one thread and release from others.
class Admission {
 public:
  Admission(size_t max_clients, size_t max_per_ip)
      : max_clients_(max_clients), max_per_ip_(max_per_ip) {}

  // True (and counted) when the connection may be served.
  bool admit(const Address& peer);
  void release(const Address& peer);
  size_t open() const;

 private:
  size_t max_clients_;
  size_t max_per_ip_;
  mutable std::mutex mutex_;
  size_t open_ = 0;
  std::unordered_map<std::string, size_t> per_host_;
};

}  // namespace nm
