#!/usr/bin/env bash
# Builds one libFuzzer target in build-fuzz/ (clang, ASan + UBSan, coverage on every library)
# and runs it for real on its corpus.
#   scripts/fuzz.sh TARGET SECONDS [extra libFuzzer flags...]
#   scripts/fuzz.sh ftp_session 600
#   scripts/fuzz.sh path_jail 0 -runs=10000000      (0 seconds: no time limit)
# Targets: the fuzz/*.cpp files but replay_main.cpp. New inputs that add coverage go to
# build-fuzz/corpus/TARGET (seeded from fuzz/corpus/TARGET, which stays as committed: copy a
# finding's reproducer there by hand, with a name that says what it is); crashes, leaks and
# time-outs go to build-fuzz/artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."

if (($# < 2)); then
  echo "usage: $0 TARGET SECONDS [libFuzzer flags...]" >&2
  exit 2
fi
target=$1
seconds=$2
shift 2
if [[ ! -f fuzz/$target.cpp || $target == replay_main ]]; then
  echo "no fuzz target '$target' (one of: $(ls fuzz/*.cpp | xargs -n1 basename | sed 's/\.cpp$//' |
    grep -v replay_main | tr '\n' ' '))" >&2
  exit 2
fi
cxx=$(command -v clang++-14 || command -v clang++ || true)
if [[ -z $cxx ]]; then
  echo "clang++ not found: scripts/install-deps.sh installs clang and libclang-rt-14-dev" >&2
  exit 2
fi

dir=build-fuzz
if [[ ! -f $dir/CMakeCache.txt ]]; then
  # -Wno-unknown-warning-option: the sanitizer builds add g++-only warning switches.
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link -Wno-unknown-warning-option" \
    -DNETMODELS_SANITIZE=address,undefined -DNETMODELS_FUZZ=ON \
    -DNETMODELS_BUILD_MICROBENCH=OFF -DNETMODELS_BUILD_BENCH_PEERS=OFF >/dev/null
fi
nice -n 5 cmake --build "$dir" --target "fuzz_$target" -j2

# Absolute paths: a target may change its working folder (ftp_session works from a sentinel).
corpus=$PWD/$dir/corpus/$target
artifacts=$PWD/$dir/artifacts/$target
mkdir -p "$corpus" "$artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The committed seeds come second: libFuzzer writes new inputs to the first folder only. One job,
# in this process (libFuzzer's -jobs=1 would fork a worker that logs to fuzz-0.log instead).
exec nice -n 15 "$dir/fuzz/fuzz_$target" "$corpus" "$PWD/fuzz/corpus/$target" \
  -max_total_time="$seconds" -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "$@"
