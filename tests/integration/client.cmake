# The FTP client against vsftpd (configured and started by the test itself), and against
# netmodels' own server when NETMODELS_SERVER_MODEL names a model. Exit status 77 is a skip.
foreach(server vsftpd netmodels)
  add_test(NAME client_${server}
           COMMAND ${NETMODELS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/client_test.py --server ${server})
  set_tests_properties(client_${server} PROPERTIES
    ENVIRONMENT "NETMODELS_BIN=${NETMODELS_BIN}"
    TIMEOUT 300
    SKIP_RETURN_CODE 77
    LABELS integration)
endforeach()
