# The farm recipe (issue 12): scripts/farm-test.sh runs deploy/haproxy/haproxy.cfg with three
# instances on loopback addresses of their own (127.0.80.x) and a free port block below the
# ephemeral range, so it runs beside the other cases. Exit 77 (no haproxy, curl or lftp): skipped.
add_test(NAME farm COMMAND ${PROJECT_SOURCE_DIR}/scripts/farm-test.sh ${PROJECT_BINARY_DIR})
set_tests_properties(farm PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77 LABELS integration)
