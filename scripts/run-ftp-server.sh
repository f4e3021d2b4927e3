#!/usr/bin/env bash
# The main job: installs what is needed, builds, and serves ./ftp-root over FTP and FTPS on
# 127.0.0.1:2121 (explicit TLS offered: AUTH TLS) and 127.0.0.1:2990 (implicit TLS), epoll model,
# with anonymous read-only access and a read-write user. On first run it makes a self-signed
# certificate for localhost in ./.tls (outside the served folder: the key is never served).
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

tls=.tls
if [[ ! -f $tls/cert.pem ]]; then
  mkdir -p "$tls"
  chmod 700 "$tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$tls/key.pem" -out "$tls/cert.pem" 2>/dev/null
  echo "made a self-signed certificate for localhost: $tls/cert.pem" >&2
fi

cat >&2 <<TEXT

netmodels FTP server on ftp://127.0.0.1:2121/ serving ./ftp-root (Ctrl-C stops it)
  anonymous, read-only:   curl ftp://127.0.0.1:2121/welcome.txt
  user demo, read-write:  curl -T file.txt ftp://demo:demo@127.0.0.1:2121/
  FTPS (explicit TLS):    curl --ssl-reqd --cacert $tls/cert.pem ftp://demo:demo@localhost:2121/
  FTPS (implicit TLS):    curl --cacert $tls/cert.pem ftps://demo:demo@localhost:2990/
  lftp over TLS:          lftp -e 'set ssl:ca-file $tls/cert.pem; set ftp:ssl-force true' \\
                            -u demo,demo -p 2121 localhost
  FileZilla:              host localhost, port 2121, "Require explicit FTP over TLS",
                          user demo / demo; accept the self-signed certificate once
  netmodels' own client:  build/netmodels ftp --ca-file $tls/cert.pem demo:demo@localhost:2121

TEXT
exec build/netmodels serve --service ftp --model epoll --listen 127.0.0.1:2121 \
  --implicit-tls 127.0.0.1:2990 --tls-cert "$tls/cert.pem" --tls-key "$tls/key.pem" \
  --root "$root" --user demo:demo "$@"
