#!/usr/bin/env bash
# The farm recipe, tested: HAProxy (deploy/haproxy/haproxy.cfg, as written) in front of three
# netmodels FTP servers sharing one root, all on loopback addresses of their own, checked with
# curl and lftp:
#   (a) EPSV and PASV, STOR and RETR of 3 MiB of random data through the balancer: byte-identical
#   (b) every instance served sessions (its --metrics-listen counters)
#   (c) the instances see the real client (PROXY v2): with --max-per-ip 1, a client already
#       holding a session on every instance is refused (421), another client address is not
#   (d) kill -9 of an instance mid-STOR: the stored file keeps its old content, new sessions go to
#       the others at once, `netmodels sweep --instance` removes the killed one's leftover only
#   (e) SIGTERM of an instance during a slow RETR: the transfer ends with its 226, bytes intact,
#       and the instance exits 0
#
#   scripts/farm-test.sh [BUILD_DIR]          default build/; the ctest cases farm.* run it
#
# Environment: NETMODELS_FARM_MODEL (default epoll) is the instances' --model;
# NETMODELS_FARM_HAPROXY=FILE runs that haproxy (default: the one on PATH or /usr/sbin; one that
# is not there makes the test skip, which is how the skip itself is tried);
# NETMODELS_FARM_KEEP=1 keeps the work folder (logs, haproxy.cfg environment) for a look.
# Exit: 0 all checks passed, 1 a check failed, 2 bad usage or set-up, 77 skipped (no haproxy,
# curl or lftp). Addresses: balancer 127.0.80.1, instances 127.0.80.2-4 (their metrics on
# 127.0.80.12-14), clients 127.0.0.10, 127.0.0.11 and 127.0.81.N (one address per client run, so
# --max-per-ip 1 never bites where it is not the point); ports: a free random block below the
# ephemeral range, held by HAProxy, so the test runs beside any other (ctest -j) and beside
# another copy of itself. Takes about 20 s.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-build}
BIN=$(realpath -m "$BUILD/netmodels")
MODEL=${NETMODELS_FARM_MODEL:-epoll}
CFG="$SRC/deploy/haproxy/haproxy.cfg"

say() { printf 'farm-test: %s\n' "$*"; }

default_haproxy() { command -v haproxy || { [[ -x /usr/sbin/haproxy ]] && echo /usr/sbin/haproxy; } || true; }
HAPROXY=${NETMODELS_FARM_HAPROXY-$(default_haproxy)}
for tool in "$HAPROXY:haproxy" "$(command -v curl || true):curl" "$(command -v lftp || true):lftp"; do
  if [[ ! -x "${tool%%:*}" ]]; then
    say "SKIP: ${tool#*:} is not installed (apt-get install ${tool#*:}; scripts/install-deps.sh has it)"
    exit 77
  fi
done
[[ -x "$BIN" ]] || { say "no $BIN: build first (usage: $0 [BUILD_DIR])"; exit 2; }

# A server under ASan / UBSan is slower to start and stop: every bound below is scaled by SLOW.
SLOW=1
if ldd "$BIN" 2>/dev/null | grep -q 'libasan\|libtsan'; then SLOW=3; fi

WORK=$(mktemp -d /tmp/nm-farm.XXXXXX)
ROOT="$WORK/root"
mkdir -p "$ROOT"
USER_NAME=farm
USER_PASS=farmpass
BAL=127.0.80.1
INST=(127.0.80.2 127.0.80.3 127.0.80.4)
METRICS_ADDR=(127.0.80.12 127.0.80.13 127.0.80.14)
IDS=(nm1 nm2 nm3)
PIDS=()          # the instances, by index; "" once it is gone
HAPROXY_PID=""
BACKGROUND=()    # clients started in the background
FAILED=0
CHECKS=0

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do [[ -n "$pid" ]] && kill_tree "$pid"; done
  for pid in "${BACKGROUND[@]}" "$HAPROXY_PID"; do
    if [[ -n "$pid" ]]; then kill -9 "$pid" 2>/dev/null || true; fi
  done
  for pid in "${BACKGROUND[@]}" "${PIDS[@]}" "$HAPROXY_PID"; do
    if [[ -n "$pid" ]]; then wait "$pid" 2>/dev/null || true; fi
  done
  if [[ "${NETMODELS_FARM_KEEP:-0}" == 1 ]]; then
    say "kept $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT TERM

pass() { CHECKS=$((CHECKS + 1)); say "PASS $*"; }
fail() {
  CHECKS=$((CHECKS + 1)); FAILED=$((FAILED + 1)); say "FAIL $*"
  local i
  for i in 0 1 2; do
    [[ -f "$WORK/nm$((i + 1)).log" ]] || continue
    echo "---- last lines of ${IDS[i]}'s log" >&2
    tail -n 8 "$WORK/nm$((i + 1)).log" >&2
  done
  echo "---- last lines of haproxy's output" >&2
  tail -n 8 "$WORK/haproxy.log" >&2 || true
}
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

# wait_for SECONDS COMMAND...: true once COMMAND succeeds, false after SECONDS (x SLOW).
wait_for() {
  local deadline=$(($(date +%s%N) + $1 * SLOW * 1000000000)); shift
  until "$@"; do
    (($(date +%s%N) < deadline)) || return 1
    sleep 0.05
  done
}
alive() { kill -0 "$1" 2>/dev/null; }
# kill_tree PID: SIGKILL to PID and every process under it (fork and prefork serve from
# children), as a machine that died would leave none of them. Descendants are listed first.
kill_tree() {
  local pid children
  children=$(ps -o pid= --ppid "$1" 2>/dev/null || true)
  kill -9 "$1" 2>/dev/null || true
  for pid in $children; do kill_tree "$pid"; done
}
gone() { ! alive "$1"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
same_file() { [[ -f "$1" && -f "$2" && "$(sha "$1")" == "$(sha "$2")" ]]; }

# A fresh client address for each client run (127.0.81.1, .2, ...).
NEXT_CLIENT=0
client_addr() { NEXT_CLIENT=$((NEXT_CLIENT + 1)); CLIENT="127.0.81.$NEXT_CLIENT"; }

url() { echo "ftp://$USER_NAME:$USER_PASS@$BAL:$CTRL/$1"; }
# curl_ftp SOURCE ARGS...: one bounded curl session from SOURCE.
curl_ftp() {
  local source=$1; shift
  curl -sS --max-time $((30 * SLOW)) --interface "$source" "$@"
}
# lftp_ftp SOURCE LOG COMMANDS: one bounded lftp session from SOURCE, its protocol trace in LOG.
lftp_ftp() {
  local source=$1 log=$2 commands=$3
  timeout $((60 * SLOW)) lftp -c "debug -o $log 5; set net:socket-bind-ipv4 $source;
    set ftp:ssl-allow no; set net:max-retries 1; set net:timeout 10; set xfer:clobber on;
    open -u $USER_NAME,$USER_PASS ftp://$BAL:$CTRL; $commands"
}

# --- ports: a block no one listens on, below the ephemeral range ----------------------------
# CTRL on the balancer and the instances; PASV ranges CTRL+1..+10, +11..+20, +21..+30 (one per
# instance); metrics at CTRL on addresses of their own (127.0.80.12-14). HAProxy holds every port
# of the block on the balancer's address, so it is the block's lock: another run (ctest -j, a
# second build's suite) whose block overlaps ours cannot start its HAProxy, and picks another.
PORT_SPAN=31
listening_ports() { ss -Htln | awk '{ n = split($4, a, ":"); print a[n] }' | sort -u; }
block_is_free() {
  local used p
  used=$(listening_ports)
  for ((p = $1; p < $1 + PORT_SPAN; p++)); do
    grep -qx "$p" <<< "$used" && return 1
  done
  return 0
}
pick_ports() {
  local low
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
  ((low > 10000 + 2 * PORT_SPAN)) || low=32768  # an odd range: below the default's start then
  for _ in $(seq 1 50); do
    CTRL=$((10000 + RANDOM % (low - 10000 - PORT_SPAN)))
    block_is_free "$CTRL" && return 0
  done
  say "no free block of $PORT_SPAN ports below $low"; exit 2
}
set_ports() {
  PASV=("$((CTRL + 1))-$((CTRL + 10))" "$((CTRL + 11))-$((CTRL + 20))" "$((CTRL + 21))-$((CTRL + 30))")
}
# The instance whose passive range holds PORT (0, 1, 2), or nothing.
instance_of_port() {
  local i
  for i in 0 1 2; do
    (($1 >= CTRL + 1 + 10 * i && $1 <= CTRL + 10 + 10 * i)) && { echo "$i"; return; }
  done
}

# --- HAProxy -----------------------------------------------------------------------------------
haproxy_cmd() { /usr/bin/python3 "$SRC/deploy/haproxy/haproxy-cmd.py" "$WORK/haproxy.sock" "$1"; }
# server_state NAME: UP, DOWN, ... as HAProxy's health checks see it.
server_state() {
  haproxy_cmd "show stat" 2>/dev/null |
    awk -F, -v s="$1" '$1 == "ftp_instances" && $2 == s { print $18 }'
}
is_down() { [[ "$(server_state "$1")" == DOWN ]]; }
all_up() {
  local s
  for s in "${IDS[@]}"; do [[ "$(server_state "$s")" == UP ]] || return 1; done
}
# Our HAProxy listens (not another run's on the same port), or it has exited (a port was taken).
haproxy_listening() {
  gone "$HAPROXY_PID" || ss -Htlnp "sport = :$CTRL" | grep "$BAL:$CTRL" | grep -q "pid=$HAPROXY_PID,"
}

start_haproxy() {
  # The test's own addition: a stats socket to read the servers' states from.
  printf 'global\n    stats socket %s mode 600 level admin\n' "$WORK/haproxy.sock" > "$WORK/stats.cfg"
  NM_BALANCER=$BAL NM_SOURCE=$BAL NM_CONTROL_PORT=$CTRL \
    NM_INSTANCE1=${INST[0]} NM_INSTANCE2=${INST[1]} NM_INSTANCE3=${INST[2]} \
    NM_PASV1=${PASV[0]} NM_PASV2=${PASV[1]} NM_PASV3=${PASV[2]} \
    "$HAPROXY" -db -f "$CFG" -f "$WORK/stats.cfg" >> "$WORK/haproxy.log" 2>&1 &
  HAPROXY_PID=$!
  if wait_for 10 haproxy_listening && alive "$HAPROXY_PID"; then return 0; fi
  kill -9 "$HAPROXY_PID" 2>/dev/null || true
  wait "$HAPROXY_PID" 2>/dev/null || true
  HAPROXY_PID=""
  return 1
}

# --- the instances -----------------------------------------------------------------------------
start_instance() {
  local i=$1 out="$WORK/nm$(($1 + 1)).out"
  : > "$out"
  "$BIN" serve --model "$MODEL" --service ftp --root "$ROOT" --user "$USER_NAME:$USER_PASS" \
    --listen "${INST[i]}:$CTRL" --proxy-protocol v2 --proxy-trusted "$BAL/32" \
    --pasv-address "$BAL" --pasv-ports "${PASV[i]}" --instance-id "${IDS[i]}" \
    --drain-timeout 30 --max-per-ip 1 --metrics-listen "${METRICS_ADDR[i]}:$CTRL" \
    --log-level info > "$out" 2>> "$WORK/nm$((i + 1)).log" &
  PIDS[i]=$!
  wait_for 20 grep -q '^listening on ' "$out" || { say "${IDS[i]} did not start"; return 1; }
}
metric() {  # metric INDEX SAMPLE: the value of one sample line (0 when absent)
  local v
  v=$(curl -s --max-time 5 "http://${METRICS_ADDR[$1]}:$CTRL/metrics" |
    awk -v k="$2" '$1 == k { print $2 }')
  echo "${v:-0}"
}

pick_ports
set_ports
for attempt in 1 2 3 4 5; do
  start_haproxy && break
  ((attempt < 5)) || { say "haproxy did not start:"; tail -5 "$WORK/haproxy.log"; exit 2; }
  pick_ports; set_ports  # another process took a port meanwhile: another block
done
for i in 0 1 2; do start_instance "$i" || exit 2; done
say "model $MODEL; balancer $BAL:$CTRL; instances ${INST[*]} (pasv ${PASV[*]}); haproxy $HAPROXY_PID"
wait_for 15 all_up || { say "haproxy never saw all three instances up"; haproxy_cmd "show stat" | cut -d, -f1,2,18 >&2; exit 2; }

# --- (a) EPSV and PASV transfers through the balancer --------------------------------------------
head -c 3M /dev/urandom > "$WORK/a.bin"
transfer_curl() {  # transfer_curl MODE(epsv|pasv)
  local mode=$1 name="curl-$1.bin" args=() log="$WORK/curl-$1.log"
  [[ $mode == pasv ]] && args=(--disable-epsv)
  client_addr
  curl_ftp "$CLIENT" -v "${args[@]}" -T "$WORK/a.bin" "$(url "$name")" 2> "$log" || return 1
  client_addr
  curl_ftp "$CLIENT" -v "${args[@]}" -o "$WORK/back-$name" "$(url "$name")" 2>> "$log" || return 1
  # Each session really used the mode, and the two transfers went through the balancer's port.
  [[ $(grep -c "^> ${mode^^}" "$log") == 2 ]] || { say "curl did not use ${mode^^}"; return 1; }
  same_file "$WORK/a.bin" "$ROOT/$name" && same_file "$WORK/a.bin" "$WORK/back-$name"
}
transfer_lftp() {
  local mode=$1 name="lftp-$1.bin" prefer=no log="$WORK/lftp-$1.log"
  [[ $mode == epsv ]] && prefer=yes
  client_addr
  lftp_ftp "$CLIENT" "$log" "set ftp:passive-mode yes; set ftp:prefer-epsv $prefer;
    put $WORK/a.bin -o $name; get $name -o $WORK/back-$name" > /dev/null 2>&1 || return 1
  [[ $(grep -c -- "---> ${mode^^}" "$log") -ge 2 ]] || { say "lftp did not use ${mode^^}"; return 1; }
  same_file "$WORK/a.bin" "$ROOT/$name" && same_file "$WORK/a.bin" "$WORK/back-$name"
}
for mode in epsv pasv; do
  check "(a) curl ${mode^^} STOR + RETR of 3 MiB through the balancer, byte-identical" transfer_curl "$mode"
  check "(a) lftp ${mode^^} STOR + RETR of 3 MiB through the balancer, byte-identical" transfer_lftp "$mode"
done

# --- (b) every instance served sessions ------------------------------------------------------------
for _ in 1 2 3 4 5 6; do
  client_addr
  curl_ftp "$CLIENT" -l "$(url "")" > /dev/null || true
done
served() {
  local i n ok=0 line=""
  for i in 0 1 2; do
    n=$(metric "$i" 'netmodels_logins_total{result="ok"}')
    line+=" ${IDS[i]}=$n"
    [[ "$n" -gt 0 ]] || ok=1
  done
  say "logins per instance:$line"
  return $ok
}
check "(b) each instance served sessions (netmodels_logins_total{result=\"ok\"} > 0 on all three)" served

# --- (c) the real client address: --max-per-ip 1 counts 127.0.0.10, not the balancer ---------------
hold_session() {  # an lftp session from $1, logged in and idle until killed
  timeout $((120 * SLOW)) lftp -c "set net:socket-bind-ipv4 $1; set ftp:ssl-allow no;
    open -u $USER_NAME,$USER_PASS ftp://$BAL:$CTRL; quote NOOP; sleep 100" > /dev/null 2>&1 &
  BACKGROUND+=($!)
}
logins_from() { cat "$WORK"/nm?.log | grep -c "event=login user=$USER_NAME peer=$1:[0-9]* result=ok" || true; }
logged_in_from() { [[ $(logins_from "$1") -ge $2 ]]; }
client_limit() {
  local k
  # leastconn sends each new session to an instance without one: after three, every instance
  # holds a session from 127.0.0.10.
  for k in 1 2 3; do
    hold_session 127.0.0.10
    wait_for 10 logged_in_from 127.0.0.10 "$k" || { say "held session $k did not log in"; return 1; }
  done
  local code
  code=$(curl -s --max-time $((20 * SLOW)) --interface 127.0.0.10 -o /dev/null -w '%{response_code}' \
    -l "$(url "")" || true)
  [[ "$code" == 421 ]] || { say "a fourth session from 127.0.0.10 got '$code', not 421"; return 1; }
  curl_ftp 127.0.0.11 -l "$(url "")" > /dev/null || { say "127.0.0.11 was refused"; return 1; }
  say "127.0.0.10: three held sessions, the fourth refused (421); 127.0.0.11 served"
}
check "(c) --max-per-ip 1 through the balancer: 127.0.0.10 refused (421), 127.0.0.11 served" client_limit
for pid in "${BACKGROUND[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
BACKGROUND=()

# --- (d) kill -9 of an instance mid-STOR --------------------------------------------------------------
head -c 1M /dev/urandom > "$ROOT/victim.bin"
cp "$ROOT/victim.bin" "$WORK/victim-before.bin"
head -c 16M /dev/urandom > "$WORK/victim-new.bin"
KILLED=""
temp_upload() { find "$ROOT" -maxdepth 1 -name '.nm-upload-*' -size +0 | head -1; }
has_temp_upload() { [[ -n "$(temp_upload)" ]]; }
kill_mid_stor() {
  client_addr
  curl_ftp "$CLIENT" --limit-rate 1M -T "$WORK/victim-new.bin" "$(url victim.bin)" \
    > /dev/null 2> "$WORK/curl-victim.log" &
  local curl_pid=$!
  BACKGROUND+=("$curl_pid")
  wait_for 10 has_temp_upload || { say "no temporary upload appeared"; return 1; }
  local temp id i
  temp=$(temp_upload)
  id=$(basename "$temp" | sed -E 's/^\.nm-upload-(.*)-[A-Za-z0-9]{6}$/\1/')
  for i in 0 1 2; do [[ "${IDS[i]}" == "$id" ]] && KILLED=$i; done
  [[ -n "$KILLED" ]] || { say "temporary upload $temp names no instance of ours"; return 1; }
  sleep 0.5  # some of the upload is in
  kill_tree "${PIDS[KILLED]}"
  wait "${PIDS[KILLED]}" 2>/dev/null || true
  PIDS[KILLED]=""
  wait_for 15 gone "$curl_pid" || { say "curl still running after the kill"; return 1; }
  if wait "$curl_pid"; then say "curl's STOR succeeded though its server was killed"; return 1; fi
  say "killed ${IDS[KILLED]} (kill -9) during its STOR; left behind: $(basename "$temp")"
  same_file "$ROOT/victim.bin" "$WORK/victim-before.bin" ||
    { say "victim.bin changed"; return 1; }
  [[ -f "$temp" ]] || { say "the killed instance's temporary upload is gone already"; return 1; }
}
check "(d) kill -9 mid-STOR: victim.bin keeps its old content, no partial file under its name" kill_mid_stor
others_serve() {
  # HAProxy retries a connection the dead instance refuses on another one (option redispatch),
  # so no session fails, from the first one after the kill, before and after the checks mark it
  # down (inter 1s, fall 2): six in a row succeed, the first within that check window.
  local start first="" k
  start=$(date +%s%N)
  for k in 1 2 3 4 5 6; do
    client_addr
    curl_ftp "$CLIENT" -l "$(url "")" > /dev/null || { say "session $k failed after the kill"; return 1; }
    [[ -n "$first" ]] || first=$((($(date +%s%N) - start) / 1000000))
  done
  local six=$((($(date +%s%N) - start) / 1000000))
  wait_for 5 is_down "${IDS[KILLED]}" ||
    { say "haproxy never marked ${IDS[KILLED]} down"; return 1; }
  say "after the kill: the first new session served in $first ms, six in $six ms;" \
    "haproxy marked ${IDS[KILLED]} DOWN by $((($(date +%s%N) - start) / 1000000)) ms"
  ((first < 2000 * SLOW))
}
sweep_leftover() {
  local decoy="$ROOT/.nm-upload-other-9-abc123" out
  echo "another instance's upload in flight" > "$decoy"
  out=$("$BIN" sweep --root "$ROOT" --instance "${IDS[KILLED]}" --older-than 0s) || return 1
  say "sweep: ${out//$'\n'/; }"
  [[ -z "$(find "$ROOT" -name ".nm-upload-${IDS[KILLED]}-*")" ]] || { say "leftover still there"; return 1; }
  [[ -f "$decoy" ]] || { say "sweep removed another instance's file"; return 1; }
  rm -f "$decoy"
}
if [[ -n "$KILLED" ]]; then
  check "(d) new sessions succeed on the other instances right after the kill" others_serve
  check "(d) netmodels sweep --instance ${IDS[KILLED]} --older-than 0s removes its leftover only" sweep_leftover
else
  fail "(d) new sessions after the kill: nothing was killed"
  fail "(d) sweep: nothing was killed"
fi

# --- (e) SIGTERM during a slow RETR: the 226 arrives, the instance exits 0 -------------------------
# 32 MiB at 4 MiB/s: longer than the socket buffers and HAProxy hold, so the server is still
# sending when SIGTERM comes.
head -c 32M /dev/urandom > "$ROOT/slow.bin"
data_port() {
  sed -nE 's/.*Connecting to [0-9.]+ \([0-9.]+\) port ([0-9]+).*/\1/p' "$WORK/curl-slow.log" 2>/dev/null | tail -1
}
has_data_port() { [[ -n "$(data_port)" ]]; }
drain_mid_retr() {
  client_addr
  curl_ftp "$CLIENT" -v --limit-rate 4M -o "$WORK/slow-back.bin" "$(url slow.bin)" \
    2> "$WORK/curl-slow.log" &
  local curl_pid=$! port i
  BACKGROUND+=("$curl_pid")
  wait_for 10 has_data_port || { say "curl's data connection never started"; return 1; }
  port=$(data_port)
  i=$(instance_of_port "$port")
  [[ -n "$i" && -n "${PIDS[i]}" ]] || { say "data port $port is in no live instance's range"; return 1; }
  wait_for 10 test -s "$WORK/slow-back.bin" || { say "no byte arrived"; return 1; }
  sleep 1
  local t0
  t0=$(date +%s)
  kill -TERM "${PIDS[i]}"
  # Meanwhile new sessions go elsewhere.
  client_addr
  curl_ftp "$CLIENT" -l "$(url "")" > /dev/null || { say "a new session failed during the drain"; return 1; }
  wait_for 40 gone "$curl_pid" || { say "curl still running 40 s after SIGTERM"; return 1; }
  wait "$curl_pid" || { say "curl failed: $(tail -3 "$WORK/curl-slow.log")"; return 1; }
  grep -q '^< 226' "$WORK/curl-slow.log" || { say "no 226 in curl's trace"; return 1; }
  same_file "$ROOT/slow.bin" "$WORK/slow-back.bin" || { say "slow.bin arrived different"; return 1; }
  wait_for 15 gone "${PIDS[i]}" || { say "${IDS[i]} still running after the drain"; return 1; }
  local rc=0
  wait "${PIDS[i]}" || rc=$?
  PIDS[i]=""
  grep -q 'event=drain ' "$WORK/nm$((i + 1)).log" || { say "${IDS[i]} logged no drain"; return 1; }
  say "SIGTERM to ${IDS[i]} mid-RETR: curl got its 226 and 32 MiB intact $(($(date +%s) - t0)) s later; ${IDS[i]} exited $rc"
  ((rc == 0))
}
check "(e) SIGTERM mid-RETR: the 226 arrives, bytes intact, the instance exits 0" drain_mid_retr

if ((FAILED)); then
  say "FAIL: $FAILED of $CHECKS checks failed"
  exit 1
fi
say "PASS: all $CHECKS checks passed"
