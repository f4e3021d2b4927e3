# The FTP server against Python's ftplib and curl, once per model. The script exits 77 (skipped)
# while a model is still a placeholder.
nm_per_model_test(ftp ftp_test.py)

# The extensions beyond the RFCs (MFMT, MFF, SITE, HASH, RANG, --umask, --user with rights,
# --users reloaded on SIGHUP), against ftplib, rclone and lftp, once per model.
nm_per_model_test(ftp_ext ftp_ext_test.py)
