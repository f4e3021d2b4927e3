#include "server/admission.hpp"

namespace nm {

bool Admission::admit(const Address& peer) {
  std::lock_guard lock(mutex_);
  if (max_clients_ && open_ >= max_clients_) return false;
  if (max_per_ip_) {
    size_t& count = per_host_[peer.host()];
    if (count >= max_per_ip_) return false;
    ++count;
  }
  ++open_;
  return true;
}

void Admission::release(const Address& peer) {
  std::lock_guard lock(mutex_);
  --open_;
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
