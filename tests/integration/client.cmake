# The FTP client against vsftpd (configured and started by the test itself), and against
# netmodels' own server on every model. Exit status 77 is a skip (vsftpd missing, or a model
# not available on this machine).
add_test(NAME client.vsftpd
         COMMAND ${NETMODELS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/client_test.py --server vsftpd)
set_tests_properties(client.vsftpd PROPERTIES
  ENVIRONMENT "NETMODELS_BIN=${NETMODELS_BIN}"
  TIMEOUT 300 SKIP_RETURN_CODE 77 LABELS integration)
foreach(model iterative fork threads select poll epoll epoll-et thread-pool prefork reactors uring)
  add_test(NAME client.${model}
           COMMAND ${NETMODELS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/client_test.py --server netmodels)
  set_tests_properties(client.${model} PROPERTIES
    ENVIRONMENT "NETMODELS_BIN=${NETMODELS_BIN};NETMODELS_SERVER_MODEL=${model}"
    TIMEOUT 300 SKIP_RETURN_CODE 77 LABELS integration)
endforeach()
# FTPS: vsftpd with TLS (explicit and implicit, certificate made by the test), and netmodels'
# own server once it has TLS (the case skips until `serve --help` offers --tls-cert).
add_test(NAME client.vsftpd-tls
         COMMAND ${NETMODELS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/client_test.py --server vsftpd-tls)
set_tests_properties(client.vsftpd-tls PROPERTIES
  ENVIRONMENT "NETMODELS_BIN=${NETMODELS_BIN}"
  TIMEOUT 300 SKIP_RETURN_CODE 77 LABELS integration)
foreach(model threads epoll)
  add_test(NAME client.netmodels-tls.${model}
           COMMAND ${NETMODELS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/client_test.py
                   --server netmodels-tls)
  set_tests_properties(client.netmodels-tls.${model} PROPERTIES
    ENVIRONMENT "NETMODELS_BIN=${NETMODELS_BIN};NETMODELS_SERVER_MODEL=${model}"
    TIMEOUT 300 SKIP_RETURN_CODE 77 LABELS integration)
endforeach()
