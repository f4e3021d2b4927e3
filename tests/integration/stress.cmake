# Soak and abuse of every model (tests/stress/soak.py --quick) and fault injection under libfiu
# (tests/stress/faults.py). Both exit 77 (skipped) when what they need is missing. Under TSan
# only the models that share memory between threads run, as in scripts/test.sh.
set(NETMODELS_STRESS_DIR ${PROJECT_SOURCE_DIR}/tests/stress)
set(stress_models "")
if(NETMODELS_SANITIZE MATCHES "thread")
  set(stress_models --models threads,thread-pool,reactors,uring)
endif()
add_test(NAME stress.quick
         COMMAND ${NETMODELS_PYTHON} ${NETMODELS_STRESS_DIR}/soak.py --bin ${NETMODELS_BIN} --quick
                 ${stress_models})
set_tests_properties(stress.quick PROPERTIES TIMEOUT 600 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE
                     LABELS "integration;stress")
add_test(NAME stress.faults
         COMMAND ${NETMODELS_PYTHON} ${NETMODELS_STRESS_DIR}/faults.py --bin ${NETMODELS_BIN}
                 ${stress_models})
set_tests_properties(stress.faults PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77 RUN_SERIAL TRUE
                     LABELS "integration;stress")
