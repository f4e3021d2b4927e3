# The load generator against the Asio reference echo server (issue 6): proves `netmodels bench`
# measures a real server, whatever state the models are in.
if(TARGET asio_echo)
  add_test(NAME bench.echo_vs_asio
           COMMAND ${NETMODELS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/bench_test.py BenchAgainstAsio)
  set_tests_properties(bench.echo_vs_asio PROPERTIES
    ENVIRONMENT "NETMODELS_BIN=${NETMODELS_BIN};ASIO_ECHO_BIN=$<TARGET_FILE:asio_echo>"
    TIMEOUT 60 LABELS "integration;bench")
endif()
# The hashed login storm (issue 10) against `netmodels serve --users`: the mode runs, logs every
# client in and reports the watcher's NOOP waits. Bounded: a few yescrypt checks, seconds.
add_test(NAME bench.ftp_login_storm
         COMMAND ${NETMODELS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/bench_test.py FtpLoginStorm)
set_tests_properties(bench.ftp_login_storm PROPERTIES
  ENVIRONMENT "NETMODELS_BIN=${NETMODELS_BIN}"
  TIMEOUT 60 LABELS "integration;bench")
