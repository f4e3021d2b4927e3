#!/usr/bin/env bash
# The whole comparison in one command: every netmodels model and the peers (vsftpd, pure-ftpd,
# pyftpdlib, the Asio echo on one thread and on every core, iperf3's loopback figure) under the
# same load, interleaved and repeated, into bench/results/latest.{csv,md} and plots.
#
#   bench/run.sh [--quick] [--repeat N] [--models "epoll uring ..."] [--tests "echo ..."]
#                [--no-install] [--no-pin] [--duration S]
#
# --quick finishes in under 4 minutes: four models, fewer points, one repeat (unless --repeat),
# 1 s per point (unless --duration: seconds measured per point of the closed-loop tests).
# --tests runs only these tests (echo ftp-sessions login-storm hashed-login-storm ftp-transfer
# ftp-parallel idle-echo idle-ftp idle-crowd connect-rate loopback tls farm), into bench/results/tmp/
# rather than over the full run's results. hashed-login-storm creates a system user for vsftpd,
# so it needs root; without root it skips vsftpd and says so.
# One-thread servers run pinned to core 0 and the load generator to core 1 (taskset), so the two
# do not trade places on a core between repeats; so do every server and its client in the
# one-connection tests (ftp-transfer, loopback); --no-pin leaves all of them to the scheduler.
# Every run's CSV is also kept as bench/results/runs/DATE-COMMIT[-TESTS][-nopin].csv for
# bench/compare.py.
# tls: the FTPS rows (bench/tls.sh: TLS RETR / STOR, 300 TLS logins, idle TLS sessions,
# handshakes/s against vsftpd and pure-ftpd with TLS on), after the rest, from the same build,
# into bench/results/tls-DATE[-quick].md; latest.md links it.
# farm: netmodels behind HAProxy with 1, 2 and 3 instances (bench/farm.sh: sessions/s, a 300-login
# storm, HAProxy's CPU), epoll and threads unless --models, into bench/results/farm-DATE[-quick].md;
# latest.md links it. Skipped, with a word, where haproxy is not installed.
# NETMODELS_BENCH_BUILD=DIR builds in DIR instead of build-bench/.
# NETMODELS_SERVER_BIN=FILE serves with that netmodels (another build or branch) while the load
# still comes from this tree's `netmodels bench`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RESULTS="$ROOT/bench/results"
BUILD="${NETMODELS_BENCH_BUILD:-$ROOT/build-bench}"  # a Release build folder of its own
PYTHON=/usr/bin/python3

QUICK=0
REPEAT=3
REPEAT_SET=0
DURATION_SET=""
INSTALL=1
PIN=1
MODELS="iterative fork threads select poll epoll epoll-et thread-pool prefork reactors uring"
MODELS_SET=0
TESTS=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --repeat) REPEAT="$2"; REPEAT_SET=1; shift ;;
    --duration) DURATION_SET="$2"; shift ;;
    --models) MODELS="$2"; MODELS_SET=1; shift ;;
    --tests) TESTS="$2"; RESULTS="$ROOT/bench/results/tmp"; shift ;;
    --no-install) INSTALL=0 ;;
    --no-pin) PIN=0 ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [[ $QUICK == 1 ]]; then
  [[ $MODELS_SET == 1 ]] || MODELS="threads epoll reactors uring"
  [[ $REPEAT_SET == 1 ]] || REPEAT=1
  POINTS="1 100 1000"
  DURATION=1; WARMUP=0.3
  IDLE_ECHO=1000; IDLE_FTP=300
  BIG=256M; WAIT=5; IPERF_SECONDS=2
else
  POINTS="1 10 100 1000"
  DURATION=5; WARMUP=1
  IDLE_ECHO=10000; IDLE_FTP=300
  BIG=1G; WAIT=30; IPERF_SECONDS=5
fi
[[ -n "$DURATION_SET" ]] && DURATION="$DURATION_SET"
STORM=300
PARALLEL=10
# The idle crowd (issue 13): IDLE_BUSY connections exchange messages while N others sit idle.
IDLE_BUSY=10
IDLE_CROWD_POINTS="0 100 1000 10000"
# select(2) watches no descriptor at or past FD_SETSIZE (1024); the server's own descriptors
# (stdio, listener, wake-up pipe and eventfd: 11 of the lowest) come first, so a crowd that
# would reach it is not run (the table says FD_SETSIZE).
SELECT_FD_LIMIT=$((1024 - 12))
# Connection rate: a few clients, each connect / one echo / close as fast as it can.
CONNECT_CLIENTS=4
# Servers that serve echo on one thread: pinned to core 0 with the load generator on core 1. Not
# for FTP: there the event models hand password checks and listings to a pool of threads.
ONE_THREAD="netmodels-iterative netmodels-select netmodels-poll netmodels-epoll netmodels-epoll-et netmodels-uring asio"
if [[ $PIN == 1 ]] && { [[ $(nproc) -lt 2 ]] || ! command -v taskset >/dev/null; }; then
  PIN=0  # nothing to pin to
fi
# The hashed login storm (issue 10): HASHED_STORM clients log in with yescrypt-hashed passwords
# while a watcher, logged in before them, sends NOOP every WATCH_MS; the same yescrypt cost for
# every server (libxcrypt's default, ~25-30 ms a check here).
HASHED_STORM=100
WATCH_MS=10
# A hundred checks take seconds; a client still waiting after this was never accepted (vsftpd's
# listen backlog is 32, see bench/README.md) and counts as a failed login.
HASHED_TIMEOUT=30
STORM_USER=nmbenchstorm  # a system user for vsftpd (PAM + /etc/shadow), removed at the end
STORM_PASS="storm-$RANDOM-$RANDOM"
STORM_USER_MADE=0

WORK=$(mktemp -d /tmp/netmodels-bench.XXXXXX)
chmod 755 "$WORK"  # vsftpd and pure-ftpd drop to unprivileged users that must reach the root
LOG="$WORK/bench.log"
RAW="$WORK/raw.tsv"
: > "$RAW"
SERVER_PID=""

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# One data connection at a time, so one core is all any server can use: every server, peers
# too, pinned to core 0 and its client to core 1. Unpinned, the sender and the receiver of a
# transfer shared a core in some repeats and not in others: RETR figures of one server spread
# 1,660-2,730 MiB/s within a run while iperf3's stayed within 1%.
ONE_CONNECTION_TESTS="ftp-transfer loopback"
CURRENT_TEST=""  # set by run_bench for start_server
# pinned NAME SERVICE: true when pinning is on and NAME serves SERVICE on one thread, or the
# test running is a one-connection one.
pinned() {
  [[ $PIN == 1 ]] || return 1
  [[ " $ONE_CONNECTION_TESTS " == *" $CURRENT_TEST "* && -n "$CURRENT_TEST" ]] && return 0
  [[ "$2" == echo && " $ONE_THREAD " == *" $1 "* ]]
}
# The command prefixes for a server and for its load: taskset when pinned, nothing otherwise.
# taskset execs the command, so $! is still the server itself (and a forking server's children
# inherit its core).
server_cpus() { if pinned "$1" "$2"; then echo taskset -c 0; fi; }
load_cpus() { if pinned "$1" "$2"; then echo taskset -c 1; fi; }

# The pid's descendants (fork and prefork models serve from children), from one ps listing:
# a fork server holding 10,000 idle connections has 10,000 children, one ps each would take minutes.
descendants() {
  ps -e -o pid=,ppid= 2>/dev/null | awk -v root="$1" '
    { parent[$1] = $2 }
    END {
      for (p in parent) {
        q = parent[p]
        for (depth = 0; q != "" && q != 0 && depth < 64; depth++) {
          if (q == root) { print p; break }
          q = parent[q]
        }
      }
    }'
}

stop_server() {
  if [[ -n "$SERVER_PID" ]]; then
    local children
    children=$(descendants "$SERVER_PID")
    kill "$SERVER_PID" 2>/dev/null || true
    # Give it a moment to stop cleanly, then insist.
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    # A server that left children behind: they are ours to stop too, by pid.
    local pid
    for pid in $children; do kill -9 "$pid" 2>/dev/null || true; done
    SERVER_PID=""
  fi
}

cleanup() {
  stop_server
  remove_storm_user
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# Tools: from Debian when missing.
install_tools() {
  local missing=()
  command -v vsftpd >/dev/null || [[ -x /usr/sbin/vsftpd ]] || missing+=(vsftpd)
  command -v iperf3 >/dev/null || missing+=(iperf3)
  command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
  [[ -f /usr/include/asio.hpp ]] || missing+=(libasio-dev)
  $PYTHON -c 'import pyftpdlib' 2>/dev/null || missing+=(python3-pyftpdlib)
  if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ $INSTALL == 0 ]]; then log "missing ${missing[*]} (--no-install)"; return; fi
    log "installing ${missing[*]}"
    apt-get install -y "${missing[@]}" >> "$LOG" 2>&1 ||
      { apt-get update >> "$LOG" 2>&1 && apt-get install -y "${missing[@]}" >> "$LOG" 2>&1; }
  fi
  # pure-ftpd conflicts with vsftpd as a Debian package: unpack it beside the build instead.
  PURE_DIR="$BUILD/pure-ftpd"
  if [[ ! -x "$PURE_DIR/usr/sbin/pure-ftpd" && $INSTALL == 1 ]]; then
    log "unpacking pure-ftpd"
    mkdir -p "$PURE_DIR"
    (cd "$WORK" && apt-get download pure-ftpd >> "$LOG" 2>&1 &&
      dpkg-deb -x "$WORK"/pure-ftpd_*.deb "$PURE_DIR") || log "pure-ftpd unavailable"
  fi
}

build() {
  log "building (Release)"
  # Release at -O2: g++ 12's -O3 raises false -Wrestrict / -Wstringop-overflow inside libstdc++
  # (GCC bug 105651), which -Werror turns into a failed build.
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" \
    -DNETMODELS_BUILD_MICROBENCH=OFF >> "$LOG" 2>&1
  make -C "$BUILD" -j"$(nproc)" netmodels asio_echo >> "$LOG" 2>&1 ||
    { tail -30 "$LOG" >&2; exit 1; }
  NETMODELS="$BUILD/netmodels"
  SERVER_BIN="${NETMODELS_SERVER_BIN:-$NETMODELS}"
  ASIO_ECHO="$BUILD/bench/peers/asio_echo"
}

make_ftp_root() {
  FTP_ROOT="$WORK/root"
  mkdir -p "$FTP_ROOT/upload"
  chmod 755 "$FTP_ROOT"
  chmod 777 "$FTP_ROOT/upload"  # anonymous vsftpd and pure-ftpd's virtual user upload here
  head -c 65536 /dev/urandom > "$FTP_ROOT/small.bin"
  head -c 10M /dev/urandom > "$FTP_ROOT/10m.bin"
  head -c "$BIG" /dev/zero > "$FTP_ROOT/big.bin"
  chmod 644 "$FTP_ROOT"/*.bin
}

# Before each STOR: the uploads of the servers measured before are gigabytes of dirty page cache,
# and past the kernel's dirty limits every writer is throttled to the disk's speed. Without this
# the first server measured would write to memory and the later ones to the disk.
fresh_disk() {
  [[ -n "${FTP_ROOT:-}" ]] || return 0  # no FTP test in this run
  rm -f "$FTP_ROOT"/upload/*
  sync
}

free_port() {
  $PYTHON -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits for a server's "listening on HOST:PORT" line; sets SERVER_PORT. Fails if it exits first.
wait_listening() {
  local out="$1"
  for _ in $(seq 1 100); do
    if grep -q '^listening on ' "$out" 2>/dev/null; then
      SERVER_PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$out" | head -1)
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

wait_port() {
  local port="$1"
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
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
anonymous_enable=YES
local_enable=NO
write_enable=YES
anon_upload_enable=YES
anon_other_write_enable=YES
anon_root=$FTP_ROOT
no_anon_password=YES
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
max_clients=0
max_per_ip=0
connect_from_port_20=NO
xferlog_enable=NO
pasv_address=127.0.0.1
idle_session_timeout=600
EOF
}

setup_pure_users() {
  [[ -x "$PURE_DIR/usr/sbin/pure-ftpd" ]] || return 0
  # SHA-512 crypt, not pure-pw's default argon2id (255 passes, seconds per login): the benchmark
  # measures serving, not password hashing.
  local hash
  hash=$(openssl passwd -6 -salt netmodelsbench bench)
  printf 'bench:%s:65534:65534::%s/./::::::::::::\n' "$hash" "$FTP_ROOT" > "$WORK/pureftpd.passwd"
  if [[ -n "$STORM_HASH" ]]; then
    printf '%s:%s:65534:65534::%s/./::::::::::::\n' "$STORM_USER" "$STORM_HASH" "$FTP_ROOT" \
      >> "$WORK/pureftpd.passwd"
  fi
  "$PURE_DIR/usr/bin/pure-pw" mkdb "$WORK/pureftpd.pdb" -f "$WORK/pureftpd.passwd" >> "$LOG" 2>&1
}

# The hashed users of the login storm. netmodels: a users file from `netmodels passwd` (yescrypt).
# pure-ftpd: the same yescrypt hash in its puredb (pure-ftpd checks non-argon2 hashes with
# crypt(3), libxcrypt's); not pure-pw's own default (argon2id), which would cost another amount
# per login than the others'. vsftpd: a local system user with that hash in /etc/shadow.
setup_hashed_users() {
  STORM_HASH=""
  printf '%s\n' "$STORM_PASS" |
    "$SERVER_BIN" passwd "$STORM_USER" --root "$FTP_ROOT" --rights r > "$WORK/users.txt" 2>> "$LOG" ||
    { log "hashed login storm: netmodels passwd failed"; return 0; }
  STORM_HASH=$(cut -d: -f2 "$WORK/users.txt")
  make_storm_user
}

make_storm_user() {
  local why=""
  if [[ $(id -u) -ne 0 ]]; then
    why="not root: cannot create a system user"
  elif id "$STORM_USER" >/dev/null 2>&1; then
    # Left by an interrupted run (the comment says so): ours to reuse; anyone else's: not touched.
    [[ "$(getent passwd "$STORM_USER" | cut -d: -f5)" == "netmodels bench" ]] ||
      why="a user $STORM_USER exists that is not the benchmark's"
  elif ! useradd --no-create-home --home-dir "$FTP_ROOT" --shell /bin/sh \
      --comment "netmodels bench" "$STORM_USER" >> "$LOG" 2>&1; then
    why="useradd failed"
  fi
  if [[ -z "$why" ]]; then
    STORM_USER_MADE=1
    # The very hash netmodels checks (chpasswd -e stores it as given), so that both pay the same
    # yescrypt cost whatever ENCRYPT_METHOD /etc/login.defs names (SHA512 on some images).
    printf '%s:%s\n' "$STORM_USER" "$STORM_HASH" | chpasswd -e >> "$LOG" 2>&1 ||
      why="chpasswd failed"
  fi
  if [[ -z "$why" && "$(getent shadow "$STORM_USER" | cut -d: -f2)" != '$y$'* ]]; then
    why="/etc/shadow does not hold the yescrypt hash"
  fi
  if [[ -n "$why" ]]; then
    log "skip vsftpd (ftp-hashed): $why"
    SKIP[vsftpd/ftp-hashed]=1
  fi
}

remove_storm_user() {
  if [[ $STORM_USER_MADE == 1 ]]; then
    userdel "$STORM_USER" >> "$LOG" 2>&1 || true
    STORM_USER_MADE=0
  fi
}

# vsftpd for the hashed storm: local users only, checked by PAM against /etc/shadow.
write_vsftpd_local_conf() {
  write_vsftpd_conf "$1"
  sed -i -e 's/^anonymous_enable=YES/anonymous_enable=NO/' -e 's/^local_enable=NO/local_enable=YES/' \
    "$WORK/vsftpd.conf"
  printf 'pam_service_name=vsftpd\n' >> "$WORK/vsftpd.conf"
}

# start_server NAME SERVICE: starts it, sets SERVER_PID, SERVER_PORT, FTP_USER, FTP_PASS.
# SERVICE ftp-hashed: FTP with the hashed storm user instead of bench:bench.
# Returns 1 (and logs why) when the server cannot run here.
start_server() {
  local name="$1" service="$2" out="$WORK/server.out" err="$WORK/server.err"
  cat "$err" >> "$LOG" 2>/dev/null || true  # the previous server's messages, kept in the log
  : > "$out"
  : > "$err"
  FTP_USER=bench; FTP_PASS=bench
  [[ "$service" == ftp-hashed ]] && { FTP_USER="$STORM_USER"; FTP_PASS="$STORM_PASS"; }
  case "$name" in
    asio|asio-mt)
      # asio: one io_context on one thread, the peer of the one-loop models (select, poll,
      # epoll, uring). asio-mt: one io_context per core, the peer of `reactors`.
      local threads=1
      [[ "$name" == asio-mt ]] && threads=$(nproc)
      $(server_cpus "$name" "$service") "$ASIO_ECHO" --listen 127.0.0.1:0 --threads "$threads" \
        > "$out" 2>> "$err" &
      SERVER_PID=$!
      wait_listening "$out" || { SERVER_PID=""; return 1; } ;;
    vsftpd)
      SERVER_PORT=$(free_port)
      if [[ "$service" == ftp-hashed ]]; then
        write_vsftpd_local_conf "$SERVER_PORT"
      else
        write_vsftpd_conf "$SERVER_PORT"
        FTP_USER=anonymous; FTP_PASS=bench@
      fi
      $(server_cpus "$name" "$service") vsftpd "$WORK/vsftpd.conf" >> "$err" 2>&1 &
      SERVER_PID=$!
      wait_port "$SERVER_PORT" || { SERVER_PID=""; return 1; } ;;
    pure-ftpd)
      [[ -x "$PURE_DIR/usr/sbin/pure-ftpd" ]] || return 1
      SERVER_PORT=$(free_port)
      $(server_cpus "$name" "$service") "$PURE_DIR/usr/sbin/pure-ftpd" -S "127.0.0.1,$SERVER_PORT" -l "puredb:$WORK/pureftpd.pdb" \
        -E -H -4 -c 20000 -C 20000 -u 1 -I 600 >> "$err" 2>&1 &
      SERVER_PID=$!
      wait_port "$SERVER_PORT" || { SERVER_PID=""; return 1; } ;;
    pyftpdlib)
      SERVER_PORT=$(free_port)
      $(server_cpus "$name" "$service") $PYTHON -m pyftpdlib -i 127.0.0.1 -p "$SERVER_PORT" -d "$FTP_ROOT" -w -u bench -P bench \
        >> "$err" 2>&1 &
      SERVER_PID=$!
      wait_port "$SERVER_PORT" || { SERVER_PID=""; return 1; } ;;
    *)
      local model="${name#netmodels-}" extra=()
      [[ "$service" == ftp ]] && extra=(--root "$FTP_ROOT" --user bench:bench)
      [[ "$service" == ftp-hashed ]] && extra=(--root "$FTP_ROOT" --users "$WORK/users.txt")
      $(server_cpus "$name" "$service") "$SERVER_BIN" serve --model "$model" --service "${service%-hashed}" \
        --listen 127.0.0.1:0 \
        --idle-timeout 0 --quiet --log-level warn "${extra[@]}" > "$out" 2>> "$err" &
      SERVER_PID=$!
      if ! wait_listening "$out"; then
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
        return 1
      fi ;;
  esac
  return 0  # each server is started as a plain command: $! is the server itself
}

# run_bench NAME SERVICE TEST BENCH-ARGS...: one measurement on a fresh server, one raw line.
declare -A SKIP
run_bench() {
  local name="$1" service="$2" test="$3"; shift 3
  [[ -z "$TESTS" || " $TESTS " == *" $test "* ]] || return 0
  [[ -n "${SKIP[$name/$service]:-}" ]] && return 0
  CURRENT_TEST=$test
  if ! start_server "$name" "$service"; then
    log "skip $name ($service): $(tail -1 "$WORK/server.err" | cut -c1-120)"
    SKIP[$name/$service]=1
    return 0
  fi
  local json rc=0
  json=$(timeout --foreground 300 $(load_cpus "$name" "$service") "$NETMODELS" bench "$@" --host "127.0.0.1:$SERVER_PORT" --user "$FTP_USER" \
    --password "$FTP_PASS" --server-pid "$SERVER_PID" --label "$name" --json 2>> "$LOG") || rc=$?
  # A server gone before we stop it (a model not built yet prints its port, then exits) measured
  # nothing: its figures are dropped, not recorded as zeros.
  if ! kill -0 "$SERVER_PID" 2>/dev/null || [[ "$(ps -o stat= -p "$SERVER_PID")" == Z* ]]; then
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    log "skip $name ($service): it exited during the run: $(tail -1 "$WORK/server.err" | cut -c1-100)"
    SKIP[$name/$service]=1
    return 0
  fi
  stop_server
  if [[ -n "$json" ]]; then
    printf '%s\t%s\t%s\t%s\n' "$name" "$test" "$rc" "$json" >> "$RAW"
    log "$name $test: $(summary_of "$json")"
  else
    log "$name $test: no result (exit $rc)"
  fi
}

summary_of() {
  $PYTHON -c 'import json,sys; d=json.loads(sys.argv[1]); keys=["connections","idle","messages_per_s","connections_per_s","server_cpu_s_per_million_msgs","server_cpu_s_per_million_conns","p99_us","sessions_per_s","p99_ms","login_storm_s","storm_s","logins_per_s","watch_p99_ms","watch_max_ms","retr_mib_per_s","stor_mib_per_s","parallel_s","bytes_per_connection","failures"]; print(" ".join(f"{k}={d[k]}" for k in keys if k in d))' "$1"
}

iperf_run() {
  [[ -z "$TESTS" || " $TESTS " == *" loopback "* ]] || return 0
  local port json
  port=$(free_port)
  CURRENT_TEST=loopback
  $(server_cpus iperf3 tcp) iperf3 -s -1 -B 127.0.0.1 -p "$port" >> "$LOG" 2>&1 &
  SERVER_PID=$!
  sleep 0.3
  json=$($(load_cpus iperf3 tcp) iperf3 -c 127.0.0.1 -p "$port" -t "$IPERF_SECONDS" -J 2>> "$LOG") || true
  stop_server
  local mib
  mib=$(printf '%s' "$json" | $PYTHON -c 'import json,sys; d=json.load(sys.stdin); print(round(d["end"]["sum_received"]["bits_per_second"]/8/1048576,1))' 2>/dev/null) || return 0
  printf 'iperf3\tloopback\t0\t{"mode": "iperf3", "label": "iperf3", "loopback_mib_per_s": %s}\n' \
    "$mib" >> "$RAW"
  log "iperf3 loopback: $mib MiB/s"
}

# ---------------------------------------------------------------------------------------------
START=$(date +%s)
# wants TEST...: true when any of them runs (every test runs without --tests).
wants() {
  [[ -z "$TESTS" ]] && return 0
  local t
  for t in "$@"; do [[ " $TESTS " == *" $t "* ]] && return 0; done
  return 1
}

install_tools
build
# The FTP tree (a 1 GiB file in a full run) and the storm's system user only when an FTP test
# runs: an echo-only run (--tests "idle-crowd connect-rate") creates no user and writes no GiB.
STORM_HASH=""
if wants ftp-sessions login-storm hashed-login-storm ftp-transfer ftp-parallel idle-ftp; then
  make_ftp_root
  wants hashed-login-storm && setup_hashed_users
  setup_pure_users
fi
ulimit -n "$(ulimit -Hn)"  # 10,000 idle connections need as many descriptors in every server

ECHO_SERVERS=""
FTP_SERVERS=""
for m in $MODELS; do
  ECHO_SERVERS+="netmodels-$m "
  FTP_SERVERS+="netmodels-$m "
done
ECHO_SERVERS+="asio asio-mt"
FTP_SERVERS+="vsftpd pure-ftpd pyftpdlib"
# pyftpdlib keeps plain-text passwords: it has no hashed login to measure.
HASHED_SERVERS="${FTP_SERVERS% pyftpdlib}"

# Interleaved: each repeat walks every point over every server before the next repeat, so a
# burst of noise on the shared machine lands on all of them rather than on one.
for rep in $(seq 1 "$REPEAT"); do
  log "=== repeat $rep of $REPEAT"
  iperf_run
  for c in $POINTS; do
    for s in $ECHO_SERVERS; do
      run_bench "$s" echo "echo" echo -c "$c" -s 64 -d "$DURATION" --warmup "$WARMUP"
    done
    for s in $FTP_SERVERS; do
      run_bench "$s" ftp "ftp-sessions" ftp-sessions -c "$c" --file small.bin -d "$DURATION" \
        --warmup "$WARMUP"
    done
  done
  for s in $FTP_SERVERS; do
    run_bench "$s" ftp "login-storm" ftp-sessions --login-storm -c "$STORM" --timeout "$WAIT"
    fresh_disk
    run_bench "$s" ftp "ftp-transfer" ftp-transfer --file big.bin \
      --stor-file "upload/${s}.bin" --size "$BIG"
    run_bench "$s" ftp "ftp-parallel" ftp-transfer --parallel "$PARALLEL" --parallel-file 10m.bin
  done
  for s in $HASHED_SERVERS; do
    # iterative serves one session at a time: the watcher's, so the storm would never get in.
    [[ "$s" == netmodels-iterative ]] && continue
    [[ -n "$STORM_HASH" ]] || break
    run_bench "$s" ftp-hashed "hashed-login-storm" ftp-login-storm -c "$HASHED_STORM" \
      --watch-interval-ms "$WATCH_MS" --timeout "$HASHED_TIMEOUT"
  done
  for s in $ECHO_SERVERS; do
    # One connection at a time, or at most --workers + --queue: never 10,000.
    [[ "$s" == netmodels-iterative || "$s" == netmodels-thread-pool ]] && continue
    run_bench "$s" echo "idle-echo" idle --protocol echo -c "$IDLE_ECHO" --timeout "$WAIT"
  done
  for s in $FTP_SERVERS; do
    [[ "$s" == netmodels-iterative ]] && continue
    run_bench "$s" ftp "idle-ftp" idle --protocol ftp -c "$IDLE_FTP" --timeout "$WAIT"
  done
  for n in $IDLE_CROWD_POINTS; do
    for s in $ECHO_SERVERS; do
      # iterative would serve the first idle connection for ever; select cannot watch the crowd.
      [[ "$s" == netmodels-iterative && $n -gt 0 ]] && continue
      [[ "$s" == netmodels-select && $((n + IDLE_BUSY)) -gt $SELECT_FD_LIMIT ]] && continue
      # The crowd's opening is not measured, only bounded: a fork server forks 10,000 children
      # first, which takes seconds more on a loaded machine than --quick's WAIT.
      run_bench "$s" echo "idle-crowd" echo -c "$IDLE_BUSY" --idle "$n" -s 64 -d "$DURATION" \
        --warmup "$WARMUP" --idle-timeout 60
    done
  done
  for s in $ECHO_SERVERS; do
    run_bench "$s" echo "connect-rate" connect-rate -c "$CONNECT_CLIENTS" -s 64 -d "$DURATION" \
      --warmup "$WARMUP"
  done
done

pinning_text() {
  if [[ $PIN == 1 ]]; then
    echo "echo tests: the one-thread servers (${ONE_THREAD// /, }) pinned to core 0 and the load generator to core 1 (taskset); ${ONE_CONNECTION_TESTS// /, }: every server (iperf3's too) on core 0 and its client on core 1; every other server and test unpinned"
  else
    echo "nothing pinned (--no-pin)"
  fi
}

# The FTPS rows: their own servers (vsftpd and pure-ftpd with TLS on, one certificate for all)
# and their own table, from the same build and in the same run.
# The tables' names: as bench/tls.sh and bench/farm.sh write them. (Not `$([[ $QUICK == 1 ]] &&
# echo -quick)` in the assignment: a full run's substitution exits 1, and set -e ended the run
# there, after the FTPS rows and before any summary.)
TABLE_SUFFIX=""
[[ $QUICK == 1 ]] && TABLE_SUFFIX=-quick
TLS_TABLE=""
if wants tls; then
  tls_args=(--repeat "$REPEAT" --no-install)
  [[ $QUICK == 1 ]] && tls_args+=(--quick)
  [[ $MODELS_SET == 1 ]] && tls_args+=(--models "$MODELS")
  log "=== FTPS (bench/tls.sh ${tls_args[*]})"
  if NETMODELS_TLS_BUILD="$BUILD" "$ROOT/bench/tls.sh" "${tls_args[@]}" >&2; then
    TLS_TABLE="tls-$(date -u +%Y-%m-%d)$TABLE_SUFFIX.md"
  else
    log "bench/tls.sh failed: no FTPS rows in this run"
  fi
fi

# The farm rows: HAProxy in front of 1, 2 and 3 instances (deploy/haproxy/haproxy.cfg).
FARM_TABLE=""
if wants farm; then
  farm_args=(--repeat "$REPEAT")
  [[ $QUICK == 1 ]] && farm_args+=(--quick)
  [[ $MODELS_SET == 1 ]] && farm_args+=(--models "$MODELS")
  log "=== farm (bench/farm.sh ${farm_args[*]})"
  if NETMODELS_FARM_BUILD="$BUILD" "$ROOT/bench/farm.sh" "${farm_args[@]}" >&2; then
    FARM_TABLE="farm-$(date -u +%Y-%m-%d)$TABLE_SUFFIX.md"
    [[ -f "$ROOT/bench/results/$FARM_TABLE" ]] || FARM_TABLE=""  # no haproxy: nothing written
  else
    log "bench/farm.sh failed: no farm rows in this run"
  fi
fi

mkdir -p "$RESULTS"
cp "$RAW" "$RESULTS/latest-raw.tsv"
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
$PYTHON "$ROOT/bench/summarize.py" --raw "$RAW" --out "$RESULTS" \
  --machine "$(nproc) cores, ${CPU_MODEL:-unknown CPU}, Linux $(uname -r)" \
  --commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  --mode "$([[ $QUICK == 1 ]] && echo quick || echo full), repeat $REPEAT, ${DURATION}s per point${NETMODELS_SERVER_BIN:+; netmodels serve from $NETMODELS_SERVER_BIN}" \
  --plot "$ROOT/bench/plot.gp" --pinning "$(pinning_text)"
# Kept by date and commit, so that bench/compare.py can set any two runs side by side.
mkdir -p "$ROOT/bench/results/runs"
KEPT="$ROOT/bench/results/runs/$(date -u +%Y-%m-%d)-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
[[ -n "$TESTS" ]] && KEPT+="-${TESTS// /+}"
[[ $PIN == 0 ]] && KEPT+="-nopin"
cp "$RESULTS/latest.csv" "$KEPT.csv"
if [[ -n "$TLS_TABLE" ]]; then
  printf '\n## FTPS\n\nThe TLS rows of this run are in [%s](%s).\n' "$TLS_TABLE" \
    "$(realpath --relative-to="$RESULTS" "$ROOT/bench/results/$TLS_TABLE")" >> "$RESULTS/latest.md"
fi
if [[ -n "$FARM_TABLE" ]]; then
  printf '\n## Farm\n\nHAProxy with 1, 2 and 3 instances: [%s](%s).\n' "$FARM_TABLE" \
    "$(realpath --relative-to="$RESULTS" "$ROOT/bench/results/$FARM_TABLE")" >> "$RESULTS/latest.md"
fi
log "kept $KEPT.csv (bench/compare.py OLD.csv NEW.csv)"
log "done in $(( $(date +%s) - START )) s: $RESULTS/latest.md"
