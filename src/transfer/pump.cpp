#include "transfer/pump.hpp"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>

#include "net/logfmt.hpp"
#include "session/metrics.hpp"
#include "tls/data_params.hpp"

namespace nm {
namespace {

constexpr size_t kChunk = 256 * 1024;

bool would_block(int err) {
  return err == EAGAIN || err == EWOULDBLOCK;
}

// write(2) all of [data, data+size) to a file, retrying short writes.
bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

bool DataPump::store(std::string_view bytes) {
  if (!request_.ascii) return write_all(request_.file.get(), bytes.data(), bytes.size());
  pending_.clear();
  from_ascii_.convert(bytes, pending_);
  return write_all(request_.file.get(), pending_.data(), pending_.size());
}

bool DataPump::take(std::string_view bytes) {
  bytes_ += bytes.size();
  return charge(bytes.size()) && store(bytes);
}

DataPump::Outcome DataPump::finish_upload() {
  if (request_.ascii) {
    // A CR held back for an LF that never came.
    pending_.clear();
    from_ascii_.finish(pending_);
    if (!write_all(request_.file.get(), pending_.data(), pending_.size())) {
      return fail(Outcome::kFileError, errno);
    }
  }
  return Outcome::kDone;
}

DataPump::DataPump(TransferRequest request, std::string early)
    : request_(std::move(request)), file_offset_(request_.offset) {
  if (request_.max_rate > 0) {
    bucket_ = std::make_unique<TokenBucket>(request_.max_rate, TokenBucket::Clock::now());
  }
  if (request_.tls) {
    tls_ = TlsFilter::server(request_.tls->ctx.get());
    tls_->no_tickets();
    if (!sending()) tls_->pull_plaintext();
    tls_waits_write_ = false;  // the client speaks first: its ClientHello
    if (!early.empty()) {
      // Answered now: the client may have sent all of its ClientHello already, and waits for
      // the ServerHello, which the first step() then sends, before reading anything.
      tls_->feed(early);
      tls_->advance();
    }
  } else if (!sending()) {
    early_ = std::move(early);
  }
}

DataPump::~DataPump() = default;

DataPump::Outcome DataPump::fail(Outcome outcome, int error) {
  error_ = error;
  return outcome;
}

bool DataPump::charge(size_t size) {
  if (!request_.quota || request_.quota->take(size)) return true;
  errno = EDQUOT;
  return false;
}

DataPump::Outcome DataPump::step(int socket, size_t budget) {
  if (!bucket_) return unthrottled_step(socket, budget);
  uint64_t allowed = bucket_->available(TokenBucket::Clock::now());
  if (allowed == 0) return Outcome::kThrottled;
  size_t capped = static_cast<size_t>(std::min<uint64_t>(budget, allowed));
  uint64_t before = bytes_;
  auto outcome = unthrottled_step(socket, capped);
  bucket_->spend(bytes_ - before);
  // The bucket, not the socket, stopped this step: the next one is due on the clock.
  if (outcome == Outcome::kBudgetSpent && capped < budget) return Outcome::kThrottled;
  return outcome;
}

std::chrono::milliseconds DataPump::throttle_delay() {
  if (!bucket_) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(bucket_->wait(TokenBucket::Clock::now()));
}

DataPump::Outcome DataPump::unthrottled_step(int socket, size_t budget) {
  if (tls_) return tls_step(socket, budget);
  return sending() ? send_step(socket, budget) : receive_step(socket, budget);
}

// Sends the records the filter holds; false with *blocked set when the socket took not all.
bool DataPump::tls_flush(int socket, Outcome* blocked) {
  Buffer& cipher = tls_->cipher();
  while (!cipher.empty()) {
    ssize_t n = ::send(socket, cipher.data(), cipher.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (would_block(errno)) {
        tls_waits_write_ = true;
        *blocked = Outcome::kWouldBlock;
      } else {
        *blocked = fail(Outcome::kNetworkError, errno);
      }
      return false;
    }
    cipher.consume(static_cast<size_t>(n));
  }
  return true;
}

// Writes what the filter decrypts to the file (converted for TYPE A), straight from OpenSSL
// into a chunk of our own.
DataPump::Outcome DataPump::tls_receive_plain(size_t* moved) {
  if (!plain_chunk_) plain_chunk_ = std::make_unique_for_overwrite<char[]>(kChunk);
  for (;;) {
    size_t n = tls_->read(plain_chunk_.get(), kChunk);
    if (n == 0) return Outcome::kBudgetSpent;
    *moved += n;
    if (!take({plain_chunk_.get(), n})) return fail(Outcome::kFileError, errno);
  }
}

DataPump::Outcome DataPump::tls_step(int socket, size_t budget) {
  size_t moved = 0;
  for (;;) {
    Outcome blocked;
    if (!tls_flush(socket, &blocked)) return blocked;
    auto state = tls_->state();
    if (state == TlsFilter::State::kFailed) {
      if (!tls_checked_) count(Metric::kTlsHandshakesDataFailed);
      spdlog::info("event=tls-data-failed id={} peer={} error={}", request_.tls->session_id,
                   request_.tls->peer, logfmt_value(tls_->error()));
      return fail(Outcome::kTlsFailed, 0);
    }
    if (state != TlsFilter::State::kHandshaking && !tls_checked_) {
      tls_checked_ = true;
      count(tls_->resumed() ? Metric::kTlsHandshakesDataResumed : Metric::kTlsHandshakesDataOk);
      if (request_.tls->require_reuse && !tls_->resumed_from(request_.tls->owner_token)) {
        spdlog::info("event=tls-data-refused id={} peer={} reason={}", request_.tls->session_id,
                     request_.tls->peer, tls_->resumed() ? "foreign-session" : "not-resumed");
        return fail(Outcome::kTlsNotResumed, 0);
      }
    }
    if (state == TlsFilter::State::kHandshaking || !sending()) {
      // The handshake, or an upload: everything comes from the peer.
      if (state == TlsFilter::State::kClosed) {
        // The client's close_notify: the upload is whole; ours has been sent (flushed above).
        return finish_upload();
      }
      if (moved >= budget) {
        tls_waits_write_ = false;
        return Outcome::kBudgetSpent;
      }
      if (!chunk_) chunk_ = std::make_unique_for_overwrite<char[]>(kChunk);
      ssize_t n = ::recv(socket, chunk_.get(), std::min(kChunk, budget - moved), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (would_block(errno)) {
          tls_waits_write_ = false;
          return Outcome::kWouldBlock;
        }
        return fail(Outcome::kNetworkError, errno);
      }
      if (n == 0) {
        // No close_notify: during the handshake a failed one, later a truncated upload, which
        // is not kept (vsftpd keeps it; a half file is worse than none).
        if (state == TlsFilter::State::kHandshaking) {
          count(Metric::kTlsHandshakesDataFailed);
          spdlog::info("event=tls-data-failed id={} peer={} error={}", request_.tls->session_id,
                       request_.tls->peer, logfmt_value("closed during the handshake"));
          return fail(Outcome::kTlsFailed, 0);
        }
        spdlog::info("event=tls-data-truncated id={} peer={} bytes={}", request_.tls->session_id,
                     request_.tls->peer, bytes_);
        return fail(Outcome::kNetworkError, 0);
      }
      tls_->feed({chunk_.get(), static_cast<size_t>(n)});
      tls_->advance();
      if (tls_->state() != TlsFilter::State::kHandshaking && !sending()) {
        auto outcome = tls_receive_plain(&moved);
        if (outcome != Outcome::kBudgetSpent) return outcome;
      }
      continue;
    }
    // A download: the file (or listing) as records, then close_notify.
    if (tls_->close_sent()) return Outcome::kDone;  // and flushed: see above
    if (moved >= budget) {
      tls_waits_write_ = true;  // more to send: the next step is due when the socket takes it
      return Outcome::kBudgetSpent;
    }
    if (source_done_) {
      tls_->close();
      tls_->advance();
      continue;
    }
    std::string_view plain;
    if (request_.file && !request_.ascii) {
      // Binary: straight from the file into records, no conversion buffer.
      if (!chunk_) chunk_ = std::make_unique_for_overwrite<char[]>(kChunk);
      ssize_t n = ::pread(request_.file.get(), chunk_.get(), std::min(kChunk, budget - moved),
                          static_cast<off_t>(file_offset_));
      if (n < 0) return fail(Outcome::kFileError, errno);
      source_done_ = n == 0;
      file_offset_ += static_cast<uint64_t>(n);
      plain = {chunk_.get(), static_cast<size_t>(n)};
    } else {
      if (!refill(budget - moved)) return fail(Outcome::kFileError, errno);
      plain = pending_;
    }
    tls_->write(plain);
    bytes_ += plain.size();
    moved += plain.size();
    pending_.clear();
    tls_->advance();
  }
}

bool DataPump::refill(size_t limit) {
  pending_.clear();
  pending_offset_ = 0;
  limit = std::min(limit, kChunk);
  if (!request_.file) {
    // A listing: already in memory, already CRLF-terminated by the session.
    pending_ = request_.memory.substr(memory_offset_, limit);
    memory_offset_ += pending_.size();
    source_done_ = memory_offset_ >= request_.memory.size();
    return true;
  }
  if (!chunk_) chunk_ = std::make_unique_for_overwrite<char[]>(kChunk);
  ssize_t n = ::pread(request_.file.get(), chunk_.get(), limit, static_cast<off_t>(file_offset_));
  if (n < 0) return false;
  if (n == 0) {
    source_done_ = true;
    return true;
  }
  file_offset_ += static_cast<uint64_t>(n);
  to_ascii_.convert({chunk_.get(), static_cast<size_t>(n)}, pending_);
  return true;
}

DataPump::Outcome DataPump::send_step(int socket, size_t budget) {
  size_t moved = 0;
  bool zero_copy = request_.file && !request_.ascii;
  while (moved < budget) {
    ssize_t n;
    if (zero_copy) {
      // Binary file: the kernel copies page cache to socket, no trip through user space.
      off_t offset = static_cast<off_t>(file_offset_);
      n = ::sendfile(socket, request_.file.get(), &offset, std::min(kChunk, budget - moved));
      if (n == 0) return Outcome::kDone;
      if (n > 0) file_offset_ = static_cast<uint64_t>(offset);
      if (n < 0 && errno == EIO) {
        // A read error of the file, not of the socket.
        return fail(Outcome::kFileError, errno);
      }
    } else {
      if (pending_offset_ == pending_.size()) {
        if (source_done_) return Outcome::kDone;
        if (!refill(budget - moved)) return fail(Outcome::kFileError, errno);
        continue;
      }
      n = ::send(socket, pending_.data() + pending_offset_,
                 std::min(pending_.size() - pending_offset_, budget - moved), MSG_NOSIGNAL);
      if (n > 0) pending_offset_ += static_cast<size_t>(n);
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (would_block(errno)) return Outcome::kWouldBlock;
      return fail(Outcome::kNetworkError, errno);
    }
    moved += static_cast<size_t>(n);
    bytes_ += static_cast<uint64_t>(n);
  }
  return Outcome::kBudgetSpent;
}

DataPump::Outcome DataPump::receive_step(int socket, size_t budget) {
  if (!early_.empty()) {
    std::string first = std::move(early_);
    early_.clear();
    if (!take(first)) return fail(Outcome::kFileError, errno);
  }
  if (!request_.ascii && splice_state_ != SpliceState::kUnusable) {
    auto outcome = splice_step(socket, budget);
    // Splicing turned out impossible for this file: go on with recv + write below.
    if (splice_state_ != SpliceState::kUnusable || outcome != Outcome::kBudgetSpent) return outcome;
  }
  if (!chunk_) chunk_ = std::make_unique_for_overwrite<char[]>(kChunk);
  size_t moved = 0;
  while (moved < budget) {
    ssize_t n = ::recv(socket, chunk_.get(), std::min(kChunk, budget - moved), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (would_block(errno)) return Outcome::kWouldBlock;
      return fail(Outcome::kNetworkError, errno);
    }
    if (n == 0) return finish_upload();
    moved += static_cast<size_t>(n);
    if (!take({chunk_.get(), static_cast<size_t>(n)})) return fail(Outcome::kFileError, errno);
  }
  return Outcome::kBudgetSpent;
}

bool DataPump::open_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;  // out of descriptors: recv + write instead
  pipe_read_ = Fd(fds[0]);
  pipe_write_ = Fd(fds[1]);
  // A bigger pipe moves more per call; the default 64 KiB stays if the system says no.
  int size = ::fcntl(pipe_write_.get(), F_SETPIPE_SZ, static_cast<int>(kChunk));
  pipe_capacity_ = size > 0 ? static_cast<size_t>(size) : 64 * 1024;
  return true;
}

DataPump::Outcome DataPump::splice_step(int socket, size_t budget) {
  if (splice_state_ == SpliceState::kUntried) {
    if (!open_pipe()) {
      splice_state_ = SpliceState::kUnusable;
      return Outcome::kBudgetSpent;
    }
    splice_state_ = SpliceState::kUsable;
  }
  size_t moved = 0;
  while (moved < budget) {
    // Socket to pipe moves references to the received pages; pipe to file is the one copy, into
    // the page cache. recv + write would copy twice. The pipe is empty here: every byte that went
    // in below came out again, so this splice can only wait on the socket, which is non-blocking.
    ssize_t n = ::splice(socket, nullptr, pipe_write_.get(), nullptr,
                         std::min(pipe_capacity_, budget - moved), SPLICE_F_MOVE);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (would_block(errno)) return Outcome::kWouldBlock;
      return fail(Outcome::kNetworkError, errno);
    }
    if (n == 0) return Outcome::kDone;
    bytes_ += static_cast<uint64_t>(n);
    moved += static_cast<size_t>(n);
    if (!charge(static_cast<size_t>(n)) || !drain_pipe(static_cast<size_t>(n))) {
      return fail(Outcome::kFileError, errno);
    }
    if (splice_state_ == SpliceState::kUnusable) break;
  }
  return Outcome::kBudgetSpent;
}

bool DataPump::drain_pipe(size_t size) {
  while (size > 0) {
    // The file's own position, so REST and APPE land where write(2) would put them.
    ssize_t n =
        ::splice(pipe_read_.get(), nullptr, request_.file.get(), nullptr, size, SPLICE_F_MOVE);
    if (n > 0) {
      size -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EINVAL) {
      // This file cannot take a splice (an O_APPEND file, or a file system without it): copy
      // what the pipe holds by hand, and use recv + write from now on.
      splice_state_ = SpliceState::kUnusable;
      return copy_pipe_out(size);
    }
    return false;
  }
  return true;
}

bool DataPump::copy_pipe_out(size_t size) {
  if (!chunk_) chunk_ = std::make_unique_for_overwrite<char[]>(kChunk);
  while (size > 0) {
    ssize_t n = ::read(pipe_read_.get(), chunk_.get(), std::min(size, kChunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (!write_all(request_.file.get(), chunk_.get(), static_cast<size_t>(n))) return false;
    size -= static_cast<size_t>(n);
  }
  return true;
}

TransferResult DataPump::result(Outcome outcome) const {
  using Status = TransferResult::Status;
  switch (outcome) {
    case Outcome::kDone:
      return {Status::kOk, bytes_, 0};
    case Outcome::kNetworkError:
      return {Status::kConnectionLost, bytes_, error_};
    case Outcome::kFileError:
      return {Status::kFileError, bytes_, error_};
    case Outcome::kTlsFailed:
      return {Status::kTlsFailed, bytes_, 0};
    case Outcome::kTlsNotResumed:
      return {Status::kTlsNotResumed, bytes_, 0};
    case Outcome::kWouldBlock:
    case Outcome::kBudgetSpent:
    case Outcome::kThrottled:
      break;
  }
  return {Status::kConnectionLost, bytes_, error_};  // not an end: a caller's bug
}

}  // namespace nm
