#!/usr/bin/env bash
# The FTPS rows of issue 11's benchmark: netmodels models, vsftpd and pure-ftpd, all with TLS on,
# in one run, interleaved and repeated, into bench/results/tls-<date>.{md,tsv}.
#
#   bench/tls.sh [--quick] [--repeat N] [--models "epoll uring ..."] [--tests "logins ..."]
#                [--no-install] [--profile]
#
# Tests (explicit FTPS, AUTH TLS, PROT P; one certificate for every server):
#   retr/stor   curl --ssl-reqd RETR of a 1 GiB file to /dev/null, STOR of one from tmpfs
#   logins      300 clients at once (`netmodels bench ftp-sessions --login-storm --tls`, C++,
#               one epoll loop per core): connect, AUTH TLS, full handshake with the certificate
#               checked, USER/PASS; seconds until the last 230
#   idle        server RSS (its process tree) with 300 logged-in idle TLS sessions minus with 0
#   handshakes  connect, AUTH TLS, handshake, QUIT in a closed loop, 2x4 clients, 5 s
# --quick: 64 MiB file, 50 logins and idle sessions, 1 repeat, 2 s of handshakes.
# --profile: also `perf record -e cpu-clock -g` of netmodels epoll during one TLS RETR.
# Needs root for vsftpd (a system user nmbenchtls, removed at the end); without root vsftpd is
# skipped. NETMODELS_TLS_BUILD=DIR builds in DIR instead of build-rel/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RESULTS="$ROOT/bench/results"
BUILD="${NETMODELS_TLS_BUILD:-$ROOT/build-rel}"
PYTHON=/usr/bin/python3
LOAD="$ROOT/bench/tls_load.py"

QUICK=0
REPEAT=3
INSTALL=1
PROFILE=0
MODELS="epoll uring reactors threads prefork"
TESTS="retr stor logins idle handshakes"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --repeat) REPEAT="$2"; shift ;;
    --models) MODELS="$2"; shift ;;
    --tests) TESTS="$2"; shift ;;
    --no-install) INSTALL=0 ;;
    --profile) PROFILE=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "tls.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [[ $QUICK == 1 ]]; then
  REPEAT=1; BIG=64M; STORM=50; IDLE=50; HS_SECONDS=2
else
  BIG=1G; STORM=300; IDLE=300; HS_SECONDS=5
fi
HS_PROCS=2; HS_CLIENTS=4  # handshake load: 2 client processes x 4 connections in flight
TLS_USER=nmbenchtls       # a system user for vsftpd (PAM + /etc/shadow), removed at the end
TLS_PASS="tls-$RANDOM-$RANDOM"
TLS_USER_MADE=0
DATE=$(date -u +%Y-%m-%d)
NAME="tls-$DATE"
[[ $QUICK == 0 ]] || NAME+="-quick"
[[ $TESTS == "retr stor logins idle handshakes" ]] || NAME+="-${TESTS// /-}"  # a partial run

# tmpfs: the served file and the uploads live in memory, so STOR measures the server, not the disk.
WORK=$(mktemp -d /dev/shm/netmodels-tls.XXXXXX 2>/dev/null || mktemp -d /tmp/netmodels-tls.XXXXXX)
chmod 755 "$WORK"  # vsftpd and pure-ftpd drop to unprivileged users that must reach the root
LOG="$WORK/tls.log"
RAW="$WORK/raw.tsv"
NOTES="$WORK/notes.md"
: > "$RAW"
: > "$NOTES"
SERVER_PID=""
declare -A SKIP

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

descendants() {
  local pid
  for pid in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$pid"
    descendants "$pid"
  done
}

stop_server() {
  [[ -n "$SERVER_PID" ]] || return 0
  local children pid
  children=$(descendants "$SERVER_PID")
  kill "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  for pid in $children; do kill -9 "$pid" 2>/dev/null || true; done
  SERVER_PID=""
}

cleanup() {
  stop_server
  if [[ $TLS_USER_MADE == 1 ]]; then userdel "$TLS_USER" >> "$LOG" 2>&1 || true; fi
  cp "$LOG" /tmp/netmodels-tls-last.log 2>/dev/null || true  # for a look after a failed run
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
install_tools() {
  local missing=()
  [[ -x /usr/sbin/vsftpd ]] || missing+=(vsftpd)
  command -v curl >/dev/null || missing+=(curl)
  if [[ ${#missing[@]} -gt 0 && $INSTALL == 1 ]]; then
    log "installing ${missing[*]}"
    apt-get install -y "${missing[@]}" >> "$LOG" 2>&1 ||
      { apt-get update >> "$LOG" 2>&1 && apt-get install -y "${missing[@]}" >> "$LOG" 2>&1; } ||
      log "could not install ${missing[*]}"
  fi
  # pure-ftpd conflicts with vsftpd as a Debian package: unpacked beside the build (as run.sh).
  PURE_DIR="$BUILD/pure-ftpd"
  if [[ ! -x "$PURE_DIR/usr/sbin/pure-ftpd" && $INSTALL == 1 ]]; then
    log "unpacking pure-ftpd"
    mkdir -p "$PURE_DIR"
    (cd "$WORK" && apt-get download pure-ftpd >> "$LOG" 2>&1 &&
      dpkg-deb -x "$WORK"/pure-ftpd_*.deb "$PURE_DIR" && rm -f "$WORK"/pure-ftpd_*.deb) ||
      log "pure-ftpd unavailable"
  fi
}

build() {
  log "building netmodels (Release) in $BUILD"
  # -O2: g++ 12's -O3 raises false -Wstringop-overflow in libstdc++ (GCC bug 105651), see run.sh.
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" \
    -DNETMODELS_BUILD_MICROBENCH=OFF >> "$LOG" 2>&1
  nice -n 10 cmake --build "$BUILD" -j2 --target netmodels >> "$LOG" 2>&1 ||
    { tail -30 "$LOG" >&2; exit 1; }
  NETMODELS="$BUILD/netmodels"
}

make_files() {
  FTP_ROOT="$WORK/root"
  mkdir -p "$FTP_ROOT/upload"
  chmod 755 "$FTP_ROOT"
  chmod 777 "$FTP_ROOT/upload"
  head -c "$BIG" /dev/zero > "$FTP_ROOT/big.bin"
  head -c "$BIG" /dev/zero > "$WORK/src.bin"  # the STOR source, in tmpfs too
  chmod 644 "$FTP_ROOT/big.bin" "$WORK/src.bin"
  # One certificate for all: RSA 2048, names IP 127.0.0.1 so that clients verify it as their CA.
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" \
    -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >> "$LOG" 2>&1
  cat "$WORK/cert.pem" "$WORK/key.pem" > "$WORK/both.pem"
  chmod 600 "$WORK/key.pem" "$WORK/both.pem"
}

# One password hash for every server: SHA-512 crypt (5000 rounds, ~1-2 ms a check), not yescrypt
# (~25 ms) nor pure-pw's argon2id (seconds): the login test is about TLS, not hashing, but each
# server pays the same check per login (netmodels through a --users file, in its worker pool).
setup_users() {
  TLS_HASH=$(openssl passwd -6 "$TLS_PASS")
  printf '%s:%s:%s:rwdnm\n' "$TLS_USER" "$TLS_HASH" "$FTP_ROOT" > "$WORK/netmodels.users"
  SKIP_VSFTPD_WHY=""
  if [[ $(id -u) -ne 0 ]]; then
    SKIP_VSFTPD_WHY="not root: cannot create a system user"
  elif id "$TLS_USER" >/dev/null 2>&1; then
    [[ "$(getent passwd "$TLS_USER" | cut -d: -f5)" == "netmodels tls bench" ]] ||
      SKIP_VSFTPD_WHY="a user $TLS_USER exists that is not the benchmark's"
  elif ! useradd --no-create-home --home-dir "$FTP_ROOT" --shell /bin/sh \
      --comment "netmodels tls bench" "$TLS_USER" >> "$LOG" 2>&1; then
    SKIP_VSFTPD_WHY="useradd failed"
  fi
  if [[ -z "$SKIP_VSFTPD_WHY" ]]; then
    TLS_USER_MADE=1
    printf '%s:%s\n' "$TLS_USER" "$TLS_HASH" | chpasswd -e >> "$LOG" 2>&1 ||
      SKIP_VSFTPD_WHY="chpasswd failed"
  fi
  [[ -z "$SKIP_VSFTPD_WHY" ]] || { log "skip vsftpd: $SKIP_VSFTPD_WHY"; SKIP[vsftpd]=1; }
  if [[ -x "$PURE_DIR/usr/sbin/pure-ftpd" ]]; then
    printf '%s:%s:65534:65534::%s/./::::::::::::\n' "$TLS_USER" "$TLS_HASH" "$FTP_ROOT" \
      > "$WORK/pureftpd.passwd"
    "$PURE_DIR/usr/bin/pure-pw" mkdb "$WORK/pureftpd.pdb" -f "$WORK/pureftpd.passwd" >> "$LOG" 2>&1 ||
      { log "skip pure-ftpd: pure-pw mkdb failed"; SKIP[pure-ftpd]=1; }
  else
    log "skip pure-ftpd: not unpacked in $PURE_DIR"
    SKIP[pure-ftpd]=1
  fi
}

free_port() {
  $PYTHON -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

write_vsftpd_conf() {
  cat > "$WORK/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$1
background=NO
anonymous_enable=NO
local_enable=YES
local_root=$FTP_ROOT
write_enable=YES
local_umask=022
pam_service_name=vsftpd
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
max_clients=0
max_per_ip=0
connect_from_port_20=NO
xferlog_enable=NO
pasv_address=127.0.0.1
idle_session_timeout=600
ssl_enable=YES
rsa_cert_file=$WORK/cert.pem
rsa_private_key_file=$WORK/key.pem
force_local_logins_ssl=YES
force_local_data_ssl=YES
require_ssl_reuse=YES
ssl_ciphers=HIGH
EOF
}

# start_server NAME: starts it with TLS on; sets SERVER_PID, SERVER_PORT. 1 when it cannot run.
start_server() {
  local name="$1" err="$WORK/server.err"
  cat "$err" >> "$LOG" 2>/dev/null || true
  : > "$err"
  SERVER_PORT=$(free_port)
  case "$name" in
    vsftpd)
      write_vsftpd_conf "$SERVER_PORT"
      vsftpd "$WORK/vsftpd.conf" >> "$err" 2>&1 &
      SERVER_PID=$! ;;
    pure-ftpd)
      # --tls=2: cleartext sessions refused; the certificate (and key) from -2 FILE.
      "$PURE_DIR/usr/sbin/pure-ftpd" -S "127.0.0.1,$SERVER_PORT" -l "puredb:$WORK/pureftpd.pdb" \
        -E -H -4 -c 20000 -C 20000 -u 1 -I 600 --tls=2 -2 "$WORK/both.pem" >> "$err" 2>&1 &
      SERVER_PID=$! ;;
    netmodels-*)
      local extra=()
      # prefork's pool stops at --max-workers (256): 300 idle sessions need more.
      [[ "$name" == netmodels-prefork ]] && extra=(--max-workers 512)
      "$NETMODELS" serve --model "${name#netmodels-}" --service ftp \
        --listen "127.0.0.1:$SERVER_PORT" --idle-timeout 0 --quiet --log-level warn \
        --root "$FTP_ROOT" --users "$WORK/netmodels.users" \
        --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem" --tls required-data "${extra[@]}" \
        >> "$err" 2>&1 &
      SERVER_PID=$! ;;
  esac
  if ! wait_port "$SERVER_PORT"; then
    stop_server
    return 1
  fi
  return 0
}

record() {  # record SERVER TEST REPEAT METRIC VALUE
  printf '%s\t%s\t%s\t%s\t%s\n' "$@" >> "$RAW"
}

json_get() {  # json_get JSON KEY
  $PYTHON -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2"
}

CURL=(curl -sS --ssl-reqd --cacert "$WORK/cert.pem" --max-time 600)

run_test() {  # run_test SERVER TEST REPEAT
  local s="$1" test="$2" rep="$3" out rc=0 json
  [[ -n "${SKIP[$s]:-}" ]] && return 0
  if ! start_server "$s"; then
    log "skip $s: it did not start: $(tail -2 "$WORK/server.err" | tr '\n' ' ' | cut -c1-160)"
    SKIP[$s]=1
    return 0
  fi
  local url="ftp://127.0.0.1:$SERVER_PORT"
  case "$test" in
    retr)
      out=$("${CURL[@]}" --user "$TLS_USER:$TLS_PASS" -o /dev/null -w '%{time_pretransfer} %{time_total} %{size_download}' \
        "$url/big.bin" 2>> "$WORK/client.err") || rc=$?
      check_bytes "$s" retr "$rep" "$rc" "$out" ;;
    stor)
      rm -f "$FTP_ROOT"/upload/*
      out=$("${CURL[@]}" --user "$TLS_USER:$TLS_PASS" -T "$WORK/src.bin" -w '%{time_pretransfer} %{time_total} %{size_upload}' \
        "$url/upload/$s.bin" 2>> "$WORK/client.err") || rc=$?
      if [[ $rc == 0 && "$(stat -c %s "$FTP_ROOT/upload/$s.bin" 2>/dev/null)" != "$(stat -c %s "$WORK/src.bin")" ]]; then
        rc=99; echo "uploaded file has the wrong size" >> "$WORK/client.err"
      fi
      check_bytes "$s" stor "$rep" "$rc" "$out"
      rm -f "$FTP_ROOT"/upload/* ;;
    logins)
      json=$(timeout 300 "$NETMODELS" bench ftp-sessions --login-storm --tls --ca-file "$WORK/cert.pem" \
        --host "127.0.0.1:$SERVER_PORT" --user "$TLS_USER" --password "$TLS_PASS" -c "$STORM" \
        --timeout 60 --json 2>> "$LOG") || rc=$?
      log "$s logins: $json"
      record "$s" logins "$rep" logins_s "$(json_get "$json" login_storm_s)"
      [[ "$(json_get "$json" failures)" == 0 ]] ||
        record "$s" logins "$rep" x_login_failures "$(json_get "$json" failures) of $STORM (errors in $LOG)"
      [[ "$(json_get "$json" listen_overflows)" == 0 ]] ||
        record "$s" logins "$rep" x_listen_overflows "$(json_get "$json" listen_overflows)" ;;
    idle)
      json=$(timeout 300 $PYTHON "$LOAD" idle --port "$SERVER_PORT" --ca "$WORK/cert.pem" \
        --user "$TLS_USER" --password "$TLS_PASS" -c "$IDLE" --server-pid "$SERVER_PID" \
        --timeout 60 2>> "$LOG") || rc=$?
      log "$s idle: $json"
      record "$s" idle "$rep" idle_kib "$(json_get "$json" rss_per_session_kib)"
      record "$s" idle "$rep" idle_pss_kib "$(json_get "$json" pss_per_session_kib)"
      record "$s" idle "$rep" idle_procs "$(json_get "$json" processes)"
      [[ "$(json_get "$json" failures)" == 0 ]] ||
        record "$s" idle "$rep" x_idle_failures "$(json_get "$json" failures) ($(json_get "$json" first_error))" ;;
    handshakes)
      json=$(timeout 120 $PYTHON "$LOAD" handshakes --port "$SERVER_PORT" --ca "$WORK/cert.pem" \
        -c "$HS_CLIENTS" --procs "$HS_PROCS" -d "$HS_SECONDS" 2>> "$LOG") || rc=$?
      log "$s handshakes: $json"
      record "$s" handshakes "$rep" handshakes_s "$(json_get "$json" handshakes_per_s)"
      [[ "$(json_get "$json" failures)" == 0 ]] ||
        record "$s" handshakes "$rep" x_handshake_failures "$(json_get "$json" failures)" ;;
  esac
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    log "$s exited during $test: $(tail -1 "$WORK/server.err" | cut -c1-120)"
    record "$s" "$test" "$rep" x_exited "during $test"
  fi
  stop_server
  if [[ -s "$WORK/server.err" ]]; then
    # netmodels logs at warn: anything here is worth a look (peers print their own chatter).
    # The routine lines (the port, running as root in this benchmark) are left out.
    grep -v -e '^listening on ' -e 'event=privileges user=root' "$WORK/server.err" |
      sed "s/^/[$s $test] /" >> "$WORK/server-messages.log" || true
  fi
}

# The rate of the transfer itself: bytes / (total - pretransfer). Not curl's speed_*, which also
# counts the login and curl's ~0.2-0.4 s of set-up waits seen here with every server, plain FTP too.
check_bytes() {  # check_bytes SERVER TEST REPEAT RC "PRETRANSFER TOTAL SIZE"
  local s="$1" test="$2" rep="$3" rc="$4" pre total size want
  read -r pre total size <<< "$5"
  want=$(stat -c %s "$WORK/src.bin")
  if [[ "$rc" != 0 || "$size" != "$want" ]]; then
    log "$s $test: failed (curl exit $rc, $size of $want bytes): $(tail -1 "$WORK/client.err")"
    record "$s" "$test" "$rep" "x_${test}_failed" "curl exit $rc: $(tail -1 "$WORK/client.err" | tr '\t' ' ' | cut -c1-80)"
    return 0
  fi
  local mib
  mib=$($PYTHON -c "print(round($size/1048576/max($total-$pre, 1e-6), 1))")
  log "$s $test: $mib MiB/s"
  record "$s" "$test" "$rep" "${test}_mib_s" "$mib"
}

# What each server negotiates (protocol, cipher), once, into the notes.
negotiated() {
  local s="$1" line
  [[ -n "${SKIP[$s]:-}" ]] && return 0
  start_server "$s" || return 0
  line=$(timeout 10 openssl s_client -starttls ftp -connect "127.0.0.1:$SERVER_PORT" \
    -CAfile "$WORK/cert.pem" < /dev/null 2>/dev/null | sed -n 's/^New, \(.*\)$/\1/p' | head -1)
  echo "- $s: ${line:-could not tell}" >> "$WORK/negotiated.md"
  stop_server
}

profile_epoll() {
  [[ $PROFILE == 1 ]] || return 0
  command -v perf >/dev/null || { echo "perf not installed: no profile." >> "$NOTES"; return 0; }
  start_server netmodels-epoll || return 0
  log "profiling netmodels epoll during a TLS RETR"
  perf record -e cpu-clock -g -o "$WORK/perf.data" -p "$SERVER_PID" >> "$LOG" 2>&1 &
  local perf_pid=$!
  sleep 0.5
  "${CURL[@]}" --user "$TLS_USER:$TLS_PASS" -o /dev/null "ftp://127.0.0.1:$SERVER_PORT/big.bin" \
    2>> "$WORK/client.err" || true
  kill -INT "$perf_pid" 2>/dev/null || true
  wait "$perf_pid" 2>/dev/null || true
  stop_server
  {
    echo "## Profile: netmodels epoll serving one TLS RETR of $BIG"
    echo
    echo '`perf record -e cpu-clock -g -p PID` over the transfer; `perf report --no-children`,'
    echo 'self time, top symbols:'
    echo
    echo '```'
    perf report -i "$WORK/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null |
      grep -v '^#' | grep -v '^$' | sed 's/[[:space:]]*$//' | head -8
    echo
    perf report -i "$WORK/perf.data" --no-children --sort dso,symbol --stdio -g none \
      --percent-limit 1 2>/dev/null | grep -v '^#' | grep -v '^$' | sed 's/[[:space:]-]*$//' | head -20
    echo '```'
    echo
    echo "libcrypto has no symbol table here (no -dbgsym package): its share is the AES-GCM work,"
    echo "spread over many addresses below 1% each. Without kTLS each byte is copied out of the page"
    echo "cache by pread (_copy_to_iter under shmem_file_read_iter), encrypted, moved out of the memory"
    echo "BIO into the send buffer (memmove) and copied into the socket (_copy_from_iter)."
    echo
  } >> "$NOTES"
}

# ---------------------------------------------------------------------------------------------
START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
install_tools
build
make_files
setup_users
ulimit -n "$(ulimit -Hn)"

SERVERS=""
for m in $MODELS; do SERVERS+="netmodels-$m "; done
SERVERS+="vsftpd pure-ftpd"

: > "$WORK/negotiated.md"
for s in $SERVERS; do negotiated "$s"; done

for rep in $(seq 1 "$REPEAT"); do
  log "=== repeat $rep of $REPEAT"
  for test in $TESTS; do
    for s in $SERVERS; do run_test "$s" "$test" "$rep"; done
  done
done
profile_epoll

# ---------------------------------------------------------------------------------------------
HASH_MS=$($PYTHON - "$TLS_HASH" "$TLS_PASS" <<'EOF' 2>/dev/null || echo "?"
import sys, time, warnings
warnings.simplefilter("ignore")
import crypt
t = time.perf_counter(); n = 20
for _ in range(n): crypt.crypt(sys.argv[2], sys.argv[1])
print(f"{(time.perf_counter() - t) / n * 1000:.1f}")
EOF
)
{
  echo "## How it was measured"
  echo
  echo "- Explicit FTPS on loopback: AUTH TLS, PBSZ 0, PROT P; every server in its strictest mode:"
  echo "  netmodels \`--tls required-data\`, vsftpd \`ssl_enable=YES force_local_logins_ssl=YES"
  echo "  force_local_data_ssl=YES require_ssl_reuse=YES ssl_ciphers=HIGH\` (a local user, PAM),"
  echo "  pure-ftpd \`--tls=2 -2 cert+key.pem\` (a puredb virtual user). One certificate: RSA 2048,"
  echo "  self-signed by the script, the clients' only CA (verified, host 127.0.0.1)."
  echo "- RETR / STOR: \`curl --ssl-reqd --cacert cert.pem\`, RETR of a $BIG file to /dev/null, STOR"
  echo "  of a $BIG file; both files and the upload folder on tmpfs, so no disk in the way."
  echo "  MiB/s = bytes / (curl's time_total - time_pretransfer): the transfer, without the login and"
  echo "  the ~0.2-0.4 s set-up waits curl shows here with every server (plain FTP too)."
  echo "- Logins: \`netmodels bench ftp-sessions --login-storm --tls -c $STORM\`: $STORM clients on two"
  echo "  epoll loops (C++, OpenSSL) connecting at once: AUTH TLS, full handshake with the certificate"
  echo "  checked, USER, PASS; seconds from the first connect to the last 230. A fresh server each time."
  echo "  (Until 2026-12-03 this was a Python asyncio client, which spent more CPU per login than the"
  echo "  servers it timed: its figures are not comparable with these.)"
  echo "- Idle: $IDLE TLS sessions logged in (50 at a time) and left idle 1 s; RSS and PSS from"
  echo "  /proc/PID/smaps_rollup summed over the server's process tree, minus the same with 0"
  echo "  sessions, divided by $IDLE. vsftpd and pure-ftpd fork per session (the processes column),"
  echo "  so their RSS counts the shared libraries again in every process; PSS splits shared pages."
  echo "- Handshakes: $HS_PROCS client processes x $HS_CLIENTS connections in flight, each: connect,"
  echo "  AUTH TLS, full handshake (no resumption), QUIT, for $HS_SECONDS s. Python's client side"
  echo "  costs CPU on the same two cores, so this is a comparison, not the servers' ceiling."
  echo "- Passwords: the same SHA-512-crypt hash, 5000 rounds, ${HASH_MS} ms a check here, for every"
  echo "  server: netmodels (a \`--users\` file), vsftpd (/etc/shadow via PAM), pure-ftpd (puredb);"
  echo "  so ~$($PYTHON -c "print(round($STORM*float('${HASH_MS}'.replace('?','0'))/1000,2))" 2>/dev/null) s of CPU in a $STORM-login storm for each."
  echo "- Kernel TLS: $(if grep -qw tls /proc/sys/net/ipv4/tcp_available_ulp 2>/dev/null; then echo "available"; else echo "not available on this kernel (\`/proc/sys/net/ipv4/tcp_available_ulp\`: \`$(cat /proc/sys/net/ipv4/tcp_available_ulp 2>/dev/null)\`), so no server can sendfile under TLS: every byte is encrypted in user space"; fi)."
  echo "- Machine load (1/5/15 min averages, every process, other users' too): $LOAD_START at the"
  echo "  start, $(cut -d' ' -f1-3 /proc/loadavg) at the end."
  echo "- Order: interleaved (each test over every server, then the next test; then the next repeat)."
  echo
  echo "Negotiated (openssl s_client -starttls ftp):"
  echo
  cat "$WORK/negotiated.md"
  echo
  if [[ ! -s "$WORK/server-messages.log" ]]; then
    echo "No server wrote anything to stderr beyond its port and the running-as-root warning."
    echo
  else
    echo "## Server messages (stderr; netmodels at --log-level warn), first 30 lines"
    echo
    echo "$(wc -l < "$WORK/server-messages.log") lines in all, the port and running-as-root lines left out."
    echo
    echo '```'
    head -30 "$WORK/server-messages.log" | cut -c1-200
    echo '```'
    echo
  fi
} >> "$NOTES"

mkdir -p "$RESULTS"
cp "$RAW" "$RESULTS/$NAME.tsv"
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
$PYTHON "$LOAD" summarize --raw "$RAW" --out "$RESULTS/$NAME.md" --date "$DATE" \
  --machine "$(nproc) cores, ${CPU_MODEL:-unknown CPU}, Linux $(uname -r), $(openssl version | cut -d' ' -f1-2)" \
  --commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  --mode "$([[ $QUICK == 1 ]] && echo quick || echo full), repeat $REPEAT, file $BIG, $STORM logins, $IDLE idle" \
  --notes "$NOTES" > /dev/null
log "done in $(( $(date +%s) - START )) s: $RESULTS/$NAME.md"
