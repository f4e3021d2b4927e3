# The farm recipe (issue 12): scripts/farm-test.sh runs deploy/haproxy/haproxy.cfg with three
# instances on loopback addresses of their own (127.0.80.x) and a free port block below the
# ephemeral range, so it runs beside the other cases (ctest -j). Named by model like the per-model
# cases (scripts/test.sh's TSan run leaves both out): a single-loop model, and prefork, whose
# instances are process trees (drain forwarded to children, kill -9 of the whole tree, the
# per-client count in shared memory). Exit 77 (no haproxy, curl or lftp): skipped.
foreach(model epoll prefork)
  add_test(NAME farm.${model}
           COMMAND ${PROJECT_SOURCE_DIR}/scripts/farm-test.sh ${PROJECT_BINARY_DIR})
  set_tests_properties(farm.${model} PROPERTIES ENVIRONMENT "NETMODELS_FARM_MODEL=${model}"
                       TIMEOUT 300 SKIP_RETURN_CODE 77 LABELS integration)
endforeach()
