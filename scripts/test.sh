#!/usr/bin/env bash
# Installs what is needed, builds, and runs the whole test suite (unit and integration).
#   scripts/test.sh                       plain build in build/
#   scripts/test.sh --sanitize asan       ASan + UBSan build in build-asan/, every test
#   scripts/test.sh --sanitize tsan       TSan build in build-tsan/, unit tests and the threaded models
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=""
while (($#)); do
  case $1 in
    --sanitize) sanitize=$2; shift 2 ;;
    *) echo "usage: $0 [--sanitize asan|tsan]" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh

dir=build
cmake_args=()
ctest_args=()
case $sanitize in
  "") ;;
  asan)
    dir=build-asan
    cmake_args=(-DNETMODELS_SANITIZE=address,undefined -DNETMODELS_BUILD_MICROBENCH=OFF)
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    ;;
  tsan)
    dir=build-tsan
    cmake_args=(-DNETMODELS_SANITIZE=thread -DNETMODELS_BUILD_MICROBENCH=OFF
                -DNETMODELS_BUILD_BENCH_PEERS=OFF)
    # TSan is for the models that share memory between threads; the forking ones are not run.
    ctest_args=(-E "\\.(iterative|fork|select|poll|epoll|epoll-et|prefork)$")
    export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
    ;;
  *) echo "unknown sanitizer '$sanitize' (asan or tsan)" >&2; exit 2 ;;
esac

scripts/build.sh "$dir" "${cmake_args[@]}"
cd "$dir"
ctest -j"$(nproc)" --output-on-failure --timeout 600 "${ctest_args[@]}"
