# The PROXY protocol (v1, v2) in front of the FTP server, raw sockets and a real HAProxy, once
# per model.
nm_per_model_test(proxy proxy_test.py)
