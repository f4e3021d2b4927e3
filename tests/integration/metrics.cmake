# --metrics-listen: the Prometheus counters after real FTP traffic, once per model.
nm_per_model_test(metrics metrics_test.py)
