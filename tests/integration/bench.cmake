# The load generator against the Asio reference echo server (issue 6): proves `netmodels bench`
# measures a real server, whatever state the models are in.
if(TARGET asio_echo)
  add_test(NAME bench.echo_vs_asio
           COMMAND ${NETMODELS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/bench_test.py)
  set_tests_properties(bench.echo_vs_asio PROPERTIES
    ENVIRONMENT "NETMODELS_BIN=${NETMODELS_BIN};ASIO_ECHO_BIN=$<TARGET_FILE:asio_echo>"
    TIMEOUT 60 LABELS "integration;bench")
endif()
