# The concurrency models serving ack and echo (issue 2), one ctest case per model.
set(NETMODELS_ALL_MODELS iterative fork threads select poll epoll epoll-et thread-pool prefork
    reactors uring)
foreach(model ${NETMODELS_ALL_MODELS})
  add_test(NAME models.${model}
           COMMAND ${NETMODELS_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/models_test.py)
  set_tests_properties(models.${model} PROPERTIES
    ENVIRONMENT "NETMODELS_BIN=${NETMODELS_BIN};NETMODELS_MODEL=${model}"
    TIMEOUT 300 LABELS "integration;models")
endforeach()
