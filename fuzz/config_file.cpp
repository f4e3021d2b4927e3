// The TOML config reader (app/config_file.hpp): any text either turns into command-line words or
// throws std::runtime_error, its one documented exception; nothing else escapes (a toml++ error
// type, std::out_of_range...), nothing crashes. On success every option word is "--KEY" and is
// followed by its value unless it is a flag.

#include <stdexcept>
#include <string>
#include <vector>

#include "app/config_file.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> args;
  try {
    args = nm::config_text_arguments(text, "fuzz.toml");
  } catch (const std::runtime_error& e) {
    NM_FUZZ_CHECK(std::string(e.what()).rfind("config fuzz.toml: ", 0) == 0,
                  "message without the file: %s", nm::fuzz::printable(e.what()).c_str());
    return 0;
  }
  NM_FUZZ_CHECK(args.empty() || args.front().rfind("--", 0) == 0, "first word '%s' is no option",
                nm::fuzz::printable(args.front()).c_str());
  return 0;
}
