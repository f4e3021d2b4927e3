#include "net/buffer.hpp"

#include <algorithm>
#include <cstring>

namespace nm {

char* Buffer::reserve(size_t n) {
  if (capacity_ - end_ >= n) return data_.get() + end_;
  size_t used = size();
  if (capacity_ >= used + n && begin_ > 0) {
    // Enough room once the consumed prefix is dropped.
    std::memmove(data_.get(), data(), used);
  } else {
    size_t cap = std::max<size_t>({256, capacity_ * 2, used + n});
    // Not zero-filled: every byte is written before it is read, and a 256 KiB chunk zeroed per
    // refill showed as a tenth of a TLS upload's CPU.
    auto grown = std::make_unique_for_overwrite<char[]>(cap);
    if (used) std::memcpy(grown.get(), data(), used);
    data_ = std::move(grown);
    capacity_ = cap;
  }
  begin_ = 0;
  end_ = used;
  return data_.get() + end_;
}

void Buffer::append(std::string_view bytes) {
  if (bytes.empty()) return;
  std::memcpy(reserve(bytes.size()), bytes.data(), bytes.size());
  commit(bytes.size());
}

void Buffer::consume(size_t n) {
  begin_ += std::min(n, size());
  if (begin_ == end_) clear();
}

void Buffer::clear() {
  begin_ = end_ = 0;
  if (capacity_ > kKeepCapacity || capacity_ <= kReleaseSmall) {
    data_.reset();
    capacity_ = 0;
  }
}

}  // namespace nm
