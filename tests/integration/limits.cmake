# Bandwidth limits and quotas (--max-rate, --anon-max-rate, the users file's rate= and quota=),
# measured over the wire, once per model.
nm_per_model_test(ftp_limits ftp_limits_test.py)
