# FTPS (explicit and implicit TLS) against curl, lftp, ftplib and openssl s_client, once per model.
nm_per_model_test(ftps ftps_test.py)
