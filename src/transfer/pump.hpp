#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "net/fd.hpp"
#include "session/session.hpp"
#include "tls/filter.hpp"
#include "transfer/ascii.hpp"
#include "transfer/token_bucket.hpp"

namespace nm {

// Moves one FTP transfer's bytes between a non-blocking data socket and a file (or a listing in
// memory). Every model runs transfers through it: the blocking models call step() when poll says
// the socket is ready, the event models when their reactor does, io_uring on a poll completion.
// Owned by the connection that runs the transfer, on that connection's thread.
//
// A protected transfer (PROT P, request.tls set) runs through a TlsFilter: the server side of the
// handshake first, then the data as records, then close_notify. Its theory of operation: every
// step() first sends the records the filter holds; while records wait for the socket nothing
// more is read from the file, so memory stays at one chunk. The handshake must resume the
// control connection's session unless --tls-no-reuse (kTlsNotResumed otherwise). A download
// ends once our close_notify is sent (the client's, if it sends one, is not waited for: the data
// is all out). An upload ends at the client's close_notify, which proves the stream complete; an
// end of stream without it is a truncation (kNetworkError: the upload is not kept).
//
// A throttled transfer (request.max_rate) holds a TokenBucket: each step moves at most what the
// bucket allows (every read and write is cut to it, so one piece never overruns it by a chunk),
// and when it is empty step() says kThrottled without touching the socket. The driver then waits
// throttle_delay() without watching the data socket: a blocking model sleeps in poll on the
// control connection, an event model arms a timer, io_uring submits a timeout. Uploads with a
// quota ask it before each write to the file (EDQUOT when it refuses).
// What an event loop lets one transfer move before the other connections get their turn (the
// level-triggered and io_uring models; edge-triggered ones move until the socket would block).
// Not less than 2 MiB: a RETR over loopback went at 0.65-0.75x of its speed with 1 MiB turns
// (epoll 1,600-1,860 MiB/s against 2,450-2,610 with 2 MiB or more, pinned, 5 runs each), the
// sender pausing before the socket's buffer was full. 4 MiB is about 2 ms at loopback speed.
inline constexpr size_t kTurnBudget = 4 * 1024 * 1024;

class DataPump {
 public:
  enum class Outcome {
    kWouldBlock,   // wait for the socket to be ready again
    kBudgetSpent,  // still ready: call again (after serving others, for fairness)
    kDone,
    kNetworkError,
    kFileError,
    kTlsFailed,      // the data connection's handshake failed
    kTlsNotResumed,  // it did not resume the control connection's TLS session
    kThrottled,      // the rate limit: call again after throttle_delay(), not on readiness
  };

  // `early`: bytes already read from the data socket, the stream's first (what followed a PROXY
  // header in the same reads, --proxy-protocol-data): an upload stores them, a protected
  // transfer's handshake starts with them (its ClientHello), a plain download has no use for
  // what the client sends and drops them.
  explicit DataPump(TransferRequest request, std::string early = {});
  ~DataPump();

  bool sending() const { return request_.direction == TransferRequest::Direction::kSend; }
  // After kWouldBlock: true to wait until the socket is writable, false until it is readable.
  // The direction of the transfer, except that a TLS handshake and close need both.
  bool waits_for_write() const { return tls_ ? tls_waits_write_ : sending(); }
  // A protected transfer still in its TLS handshake (--tls-handshake-timeout runs).
  bool handshaking() const { return tls_ && !tls_->handshake_done(); }
  // Moves bytes until the socket would block, the transfer ends, or `budget` bytes have gone.
  Outcome step(int socket, size_t budget);
  // After kThrottled: how long until the bucket lets bytes go again.
  std::chrono::milliseconds throttle_delay();
  uint64_t bytes() const { return bytes_; }
  int error() const { return error_; }
  // What a step() that ended the transfer (kDone, kNetworkError, kFileError) means to the session.
  TransferResult result(Outcome outcome) const;

 private:
  Outcome unthrottled_step(int socket, size_t budget);
  Outcome send_step(int socket, size_t budget);
  Outcome receive_step(int socket, size_t budget);
  // Binary uploads: socket -> pipe -> file with splice(2), one copy fewer than recv + write.
  Outcome splice_step(int socket, size_t budget);
  bool open_pipe();
  bool drain_pipe(size_t size);
  bool copy_pipe_out(size_t size);
  // Fills pending_ from the memory listing or, in ASCII mode, the converted file, reading at
  // most `limit` bytes.
  bool refill(size_t limit);
  // Counts `size` received bytes against the quota; false (EDQUOT) when it refuses.
  bool charge(size_t size);
  Outcome fail(Outcome outcome, int error);
  // Uploads: writes received bytes to the file (converted for TYPE A); the end of the stream.
  bool store(std::string_view bytes);
  // Received bytes, counted, charged and stored: false (errno set) when the quota or the file
  // refused them.
  bool take(std::string_view bytes);
  Outcome finish_upload();
  // PROT P.
  Outcome tls_step(int socket, size_t budget);
  bool tls_flush(int socket, Outcome* blocked);
  Outcome tls_receive_plain(size_t* moved);

  TransferRequest request_;
  uint64_t file_offset_;
  size_t memory_offset_ = 0;
  bool source_done_ = false;
  std::string pending_;  // bytes read and converted, not yet sent / written
  size_t pending_offset_ = 0;
  std::unique_ptr<char[]> chunk_;
  ToNetworkAscii to_ascii_;
  FromNetworkAscii from_ascii_;
  enum class SpliceState { kUntried, kUsable, kUnusable };
  SpliceState splice_state_ = SpliceState::kUntried;
  Fd pipe_read_;
  Fd pipe_write_;
  size_t pipe_capacity_ = 0;
  uint64_t bytes_ = 0;
  int error_ = 0;
  std::string early_;  // a plain upload's first bytes, stored before any read from the socket
  std::unique_ptr<TlsFilter> tls_;
  std::unique_ptr<char[]> plain_chunk_;  // an upload's plaintext, from OpenSSL to the file
  bool tls_waits_write_ = false;
  bool tls_checked_ = false;             // the handshake's reuse check has run
  std::unique_ptr<TokenBucket> bucket_;  // request.max_rate; null: unthrottled
};

}  // namespace nm
