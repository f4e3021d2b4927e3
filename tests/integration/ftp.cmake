# The FTP server against Python's ftplib and curl, once per model. The script exits 77 (skipped)
# while a model is still a placeholder.
foreach(model iterative fork threads select poll epoll epoll-et thread-pool prefork reactors uring)
  add_test(NAME ftp.${model} COMMAND ${NETMODELS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/ftp_test.py)
  set_tests_properties(ftp.${model} PROPERTIES
    ENVIRONMENT "NETMODELS_BIN=${NETMODELS_BIN};NETMODELS_MODEL=${model}"
    TIMEOUT 300
    SKIP_RETURN_CODE 77
    LABELS integration)
endforeach()

# The extensions beyond the RFCs (MFMT, MFF, SITE, HASH, RANG, --umask, --user with rights,
# --users reloaded on SIGHUP), against ftplib, rclone and lftp, once per model.
foreach(model iterative fork threads select poll epoll epoll-et thread-pool prefork reactors uring)
  add_test(NAME ftp_ext.${model} COMMAND ${NETMODELS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/ftp_ext_test.py)
  set_tests_properties(ftp_ext.${model} PROPERTIES
    ENVIRONMENT "NETMODELS_BIN=${NETMODELS_BIN};NETMODELS_MODEL=${model}"
    TIMEOUT 300
    SKIP_RETURN_CODE 77
    LABELS integration)
endforeach()
