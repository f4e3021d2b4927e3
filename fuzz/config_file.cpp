// The TOML config reader (app/config_file.hpp, config_file_arguments): any file either turns
// into command-line words or throws std::runtime_error, its one documented exception; nothing
// else escapes (a toml++ error type, std::out_of_range...), nothing crashes, no undefined
// behaviour (UBSan). On success every option word is "--KEY" and is followed by its value unless
// it is a flag. The reader takes a path, so each input is written to a file on tmpfs first.

#include <fcntl.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "app/config_file.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = (nm::fuzz::scratch_folder("nm-fuzz-config-") / "fuzz.toml");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  NM_FUZZ_CHECK(fd >= 0, "cannot write %s", path.c_str());
  NM_FUZZ_CHECK(::write(fd, data, size) == static_cast<ssize_t>(size), "short write");
  ::close(fd);
  std::vector<std::string> args;
  try {
    args = nm::config_file_arguments(path);
  } catch (const std::runtime_error& e) {
    NM_FUZZ_CHECK(std::string(e.what()).rfind("config ", 0) == 0, "message without 'config': %s",
                  nm::fuzz::printable(e.what()).c_str());
    return 0;
  }
  NM_FUZZ_CHECK(args.empty() || args.front().rfind("--", 0) == 0, "first word '%s' is no option",
                nm::fuzz::printable(args.front()).c_str());
  return 0;
}
