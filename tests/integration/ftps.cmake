# FTPS (explicit and implicit TLS) against curl, lftp, ftplib and openssl s_client, once per model.
foreach(model iterative fork threads select poll epoll epoll-et thread-pool prefork reactors uring)
  add_test(NAME ftps.${model} COMMAND ${NETMODELS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/ftps_test.py)
  set_tests_properties(ftps.${model} PROPERTIES
    ENVIRONMENT "NETMODELS_BIN=${NETMODELS_BIN};NETMODELS_MODEL=${model}"
    TIMEOUT 300
    SKIP_RETURN_CODE 77
    LABELS integration)
endforeach()
