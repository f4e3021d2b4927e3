# Graceful drain on SIGTERM (--drain-timeout), once per model.
nm_per_model_test(drain drain_test.py)
