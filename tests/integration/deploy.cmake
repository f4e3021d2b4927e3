# Installing and running netmodels as a system service (issue 14): command line, config check,
# logs, xferlog and sandbox (ops_test.py); --run-as on port 21 for each model (privileges_test.py,
# root only); man pages, systemd units and the fail2ban filter checked with Debian's tools
# (deploy_test.py). Label "deploy" too, so .ci/run can run just these.
add_test(NAME ops COMMAND ${NETMODELS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/ops_test.py)
set_tests_properties(ops PROPERTIES
  ENVIRONMENT "NETMODELS_BIN=${NETMODELS_BIN}"
  TIMEOUT 120 LABELS "integration;deploy")

foreach(model iterative fork threads prefork epoll uring)
  add_test(NAME ops.sandbox.${model}
    COMMAND ${NETMODELS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/ops_test.py Sandbox)
  set_tests_properties(ops.sandbox.${model} PROPERTIES
    ENVIRONMENT "NETMODELS_BIN=${NETMODELS_BIN};NETMODELS_MODEL=${model}"
    TIMEOUT 120 LABELS "integration;deploy")

  add_test(NAME privileges.${model}
    COMMAND ${NETMODELS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/privileges_test.py)
  set_tests_properties(privileges.${model} PROPERTIES
    ENVIRONMENT "NETMODELS_BIN=${NETMODELS_BIN};NETMODELS_MODEL=${model}"
    TIMEOUT 120 SKIP_RETURN_CODE 77 RESOURCE_LOCK port21 LABELS "integration;deploy")
endforeach()

add_test(NAME deploy COMMAND ${NETMODELS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/deploy_test.py)
set_tests_properties(deploy PROPERTIES
  ENVIRONMENT "NETMODELS_BIN=${NETMODELS_BIN};NETMODELS_SOURCE_DIR=${PROJECT_SOURCE_DIR};NETMODELS_BUILD_DIR=${PROJECT_BINARY_DIR}"
  TIMEOUT 180 LABELS "integration;deploy")
