#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "net/fd.hpp"
#include "session/session.hpp"
#include "transfer/ascii.hpp"

namespace nm {

// Moves one FTP transfer's bytes between a non-blocking data socket and a file (or a listing in
// memory). Every model runs transfers through it: the blocking models call step() when poll says
// the socket is ready, the event models when their reactor does.
class DataPump {
 public:
  enum class Outcome {
    kWouldBlock,   // wait for the socket to be ready again
    kBudgetSpent,  // still ready: call again (after serving others, for fairness)
    kDone,
    kNetworkError,
    kFileError,
  };

  explicit DataPump(TransferRequest request);

  bool sending() const { return request_.direction == TransferRequest::Direction::kSend; }
  // Moves bytes until the socket would block, the transfer ends, or `budget` bytes have gone.
  Outcome step(int socket, size_t budget);
  uint64_t bytes() const { return bytes_; }
  int error() const { return error_; }
  // What a step() that ended the transfer (kDone, kNetworkError, kFileError) means to the session.
  TransferResult result(Outcome outcome) const;

 private:
  Outcome send_step(int socket, size_t budget);
  Outcome receive_step(int socket, size_t budget);
  // Binary uploads: socket -> pipe -> file with splice(2), one copy fewer than recv + write.
  Outcome splice_step(int socket, size_t budget);
  bool open_pipe();
  bool drain_pipe(size_t size);
  bool copy_pipe_out(size_t size);
  // Fills pending_ from the memory listing or, in ASCII mode, the converted file.
  bool refill();
  Outcome fail(Outcome outcome, int error);

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
};

}  // namespace nm
