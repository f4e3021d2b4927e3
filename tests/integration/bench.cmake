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
# The FTPS login storm (issue 11) against `netmodels serve --tls required`: every client does
# AUTH TLS and a verified handshake before it logs in; a wrong CA fails them all. A few seconds.
add_test(NAME bench.tls_login_storm
         COMMAND ${NETMODELS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/bench_test.py TlsLoginStorm)
set_tests_properties(bench.tls_login_storm PROPERTIES
  ENVIRONMENT "NETMODELS_BIN=${NETMODELS_BIN}"
  TIMEOUT 60 LABELS "integration;bench")
# The idle crowd (`echo --idle`) and `connect-rate` against `netmodels serve --service echo` on
# one model (epoll unless NETMODELS_SERVER_MODEL says otherwise): messages flow beside the crowd,
# the crowd stays open, connections are counted, server CPU is read. About 5 s.
add_test(NAME bench.idle_crowd_and_connect_rate
         COMMAND ${NETMODELS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/bench_test.py IdleCrowdAndConnectRate)
set_tests_properties(bench.idle_crowd_and_connect_rate PROPERTIES
  ENVIRONMENT "NETMODELS_BIN=${NETMODELS_BIN}"
  TIMEOUT 60 LABELS "integration;bench")
# `ftp-transfer` against `netmodels serve --service ftp` (epoll unless NETMODELS_SERVER_MODEL):
# a 4 MiB RETR and STOR arrive whole, the server's CPU per GiB is reported. About a second.
add_test(NAME bench.ftp_transfer
         COMMAND ${NETMODELS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/bench_test.py FtpTransfer)
set_tests_properties(bench.ftp_transfer PROPERTIES
  ENVIRONMENT "NETMODELS_BIN=${NETMODELS_BIN}"
  TIMEOUT 60 LABELS "integration;bench")
# bench/compare.py on made-up CSVs: no binary, no network.
add_test(NAME bench.compare
         COMMAND ${NETMODELS_PYTHON} ${PROJECT_SOURCE_DIR}/tests/unit/bench_compare_test.py)
set_tests_properties(bench.compare PROPERTIES TIMEOUT 30 LABELS "unit;bench")
