# Temporary upload names with the instance id, `netmodels sweep`, `serve --sweep-on-start`, and
# the --pasv-ports warning: once, on one model (none of it depends on the model).
add_test(NAME sweep COMMAND ${NETMODELS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/sweep_test.py)
set_tests_properties(sweep PROPERTIES ENVIRONMENT "NETMODELS_BIN=${NETMODELS_BIN}" TIMEOUT 120
                     LABELS integration)
