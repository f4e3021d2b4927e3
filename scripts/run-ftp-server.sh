#!/usr/bin/env bash
# The main job: installs what is needed, builds, and serves ./ftp-root over FTP on
# 127.0.0.1:2121 (epoll model), with anonymous read-only access and a read-write user.
# Extra arguments go to `netmodels serve` (e.g. --model threads).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh build >&2

root=ftp-root
if [[ ! -d $root ]]; then
  mkdir -p "$root/pub"
  cat > "$root/welcome.txt" <<'TEXT'
Welcome to netmodels' FTP server.
Log in as anonymous to read, or as demo / demo to upload.
TEXT
fi

cat >&2 <<'TEXT'

netmodels FTP server on ftp://127.0.0.1:2121/ serving ./ftp-root (Ctrl-C stops it)
  anonymous, read-only:   curl ftp://127.0.0.1:2121/welcome.txt
  user demo, read-write:  curl -T file.txt ftp://demo:demo@127.0.0.1:2121/
  lftp:                   lftp -u demo,demo -p 2121 127.0.0.1
  netmodels' own client:  build/netmodels ftp demo:demo@127.0.0.1:2121

TEXT
exec build/netmodels serve --service ftp --model epoll --listen 127.0.0.1:2121 \
  --root "$root" --user demo:demo "$@"
