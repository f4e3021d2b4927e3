# The fuzz targets as ordinary programs (fuzz/replay_main.cpp: LLVMFuzzerTestOneInput on every
# file of fuzz/corpus/<target>/), built by whatever compiler the build uses, so that each ctest
# run, plain or under a sanitizer, replays every seed and every reproducer of a past finding.
# One ctest case per target: fuzz.<target>. Every fuzz/*.cpp but replay_main.cpp is a target.
# Fuzzing for real (clang, libFuzzer): fuzz/CMakeLists.txt and scripts/fuzz.sh.
set(NETMODELS_FUZZ_DIR ${PROJECT_SOURCE_DIR}/fuzz)
file(GLOB NETMODELS_FUZZ_SOURCES CONFIGURE_DEPENDS ${NETMODELS_FUZZ_DIR}/*.cpp)
list(REMOVE_ITEM NETMODELS_FUZZ_SOURCES ${NETMODELS_FUZZ_DIR}/replay_main.cpp)
foreach(source ${NETMODELS_FUZZ_SOURCES})
  get_filename_component(target ${source} NAME_WE)
  add_executable(fuzz_replay_${target} ${source} ${NETMODELS_FUZZ_DIR}/replay_main.cpp)
  target_link_libraries(fuzz_replay_${target} PRIVATE netmodels_core)
  add_test(NAME fuzz.${target}
           COMMAND fuzz_replay_${target} ${NETMODELS_FUZZ_DIR}/corpus/${target})
  set_tests_properties(fuzz.${target} PROPERTIES TIMEOUT 300 LABELS fuzz)
endforeach()
