// HASH, RANG and OPTS HASH (draft-bryan-ftpext-hash). HASH reads the whole range it digests, so
// it runs as a WorkRequest job (off the event loops, as folder listings do) on a descriptor the
// job owns; one job per session, and --max-hash-size bounds how long one job can hold a pool
// thread (see cmd_hash).

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "services/ftp/file_hash.hpp"
#include "services/ftp/parameters.hpp"
#include "services/ftp/reply.hpp"
#include "services/ftp/session.hpp"

namespace nm::ftp {
namespace {

// What a hashing job shares with the session: filled on the session's thread, `hex` and `error`
// set by the job on whichever thread runs it, read back in work_done().
struct HashJob {
  Fd file;
  HashAlgorithm algorithm = HashAlgorithm::kSha256;
  uint64_t start = 0;
  uint64_t end = 0;
  std::string hex;
  int error = 0;
};

}  // namespace

// A size cap rather than a rate: the pool is shared by every session of the process (logins,
// listings), and what starves it is one job holding a thread for long. The cap bounds each job
// (1 GiB by default: about a second of SHA-256), one job per session bounds the jobs per
// session, and --max-clients / --max-per-ip bound the sessions. RANG hashes a part of a bigger
// file, and the cap applies to the part.
void FtpSession::cmd_hash(const std::string& arg, Buffer& out) {
  auto range = std::move(hash_range_);  // a range is for the next HASH only, whatever becomes of it
  if (arg.empty()) {
    reply(out, 501, "HASH needs a file name.");
    return;
  }
  std::string vpath;
  if (!resolve(arg, &vpath, out) || !allowed(rights_.read, out)) return;
  auto job = std::make_shared<HashJob>();
  if (int err = jail_.open(vpath, O_RDONLY | O_NOCTTY | O_NONBLOCK, &job->file)) {
    reply_errno(out, err);
    return;
  }
  struct stat st {};
  if (::fstat(job->file.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    reply(out, 550, "Not a plain file.");
    return;
  }
  auto size = static_cast<uint64_t>(st.st_size);
  job->algorithm = hash_algorithm_;
  job->start = range ? range->start : 0;
  job->end = range ? range->end : size;
  if (job->end > size) {
    reply(out, 554, "The range ends past the end of the file.");
    return;
  }
  if (config_.max_hash_size > 0 && job->end - job->start > config_.max_hash_size) {
    reply(out, 550,
          "Hashing is limited to " + std::to_string(config_.max_hash_size) +
              " bytes a command; use RANG for parts.");
    return;
  }
  start_work(
      [job] {
        job->error =
            hash_file_range(job->file.get(), job->algorithm, job->start, job->end, &job->hex);
      },
      [job, arg](Buffer& done_out) {
        if (job->error != 0) {
          reply_errno(done_out, job->error);
          return;
        }
        reply(done_out, 213,
              std::string(hash_name(job->algorithm)) + " " + std::to_string(job->start) + "-" +
                  std::to_string(job->end) + " " + job->hex + " " + arg);
      });
}

void FtpSession::cmd_rang(const std::string& arg, Buffer& out) {
  auto parsed = parse_rang_argument(arg);
  if (!parsed) {
    reply(out, 501, "RANG needs a start and an end byte offset, start <= end.");
    return;
  }
  if (std::holds_alternative<RangReset>(*parsed)) {
    hash_range_.reset();
    reply(out, 350, "Range cleared.");
    return;
  }
  hash_range_ = std::make_unique<ByteRange>(std::get<ByteRange>(*parsed));
  reply(out, 350,
        "Restarting at " + std::to_string(hash_range_->start) + ". Ending at " +
            std::to_string(hash_range_->end) + ".");
}

// OPTS HASH shows the selected algorithm; OPTS HASH NAME selects one for this session.
void FtpSession::opts_hash(std::string_view name, Buffer& out) {
  if (name.empty()) {
    reply(out, 200, hash_name(hash_algorithm_));
    return;
  }
  auto algorithm = parse_hash_algorithm(name);
  if (!algorithm) {
    reply(out, 501, "Unknown algorithm; FEAT lists them.");
    return;
  }
  hash_algorithm_ = *algorithm;
  reply(out, 200, hash_name(hash_algorithm_));
}

}  // namespace nm::ftp
