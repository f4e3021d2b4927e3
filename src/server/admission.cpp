#include "server/admission.hpp"

#include "session/metrics.hpp"

namespace nm {

bool Admission::admit(const Address& peer) {
  std::lock_guard lock(mutex_);
  if (max_clients_ && open_ >= max_clients_) {
    count(Metric::kRefusedMaxClients);
    return false;
  }
  if (max_per_ip_) {
    size_t& n = per_host_[peer.host()];
    if (n >= max_per_ip_) {
      count(Metric::kRefusedMaxPerIp);
      return false;
    }
    ++n;
  }
  ++open_;
  count(Metric::kConnectionsAccepted);
  count(Metric::kConnectionsActive);
  return true;
}

void Admission::release(const Address& peer) {
  std::lock_guard lock(mutex_);
  --open_;
  count(Metric::kConnectionsActive, -1);
  if (max_per_ip_) {
    auto it = per_host_.find(peer.host());
    if (it != per_host_.end() && --it->second == 0) per_host_.erase(it);
  }
}

size_t Admission::open() const {
  std::lock_guard lock(mutex_);
  return open_;
}

}  // namespace nm
