#!/usr/bin/env bash
# The farm benchmark (issue 12, item 9): netmodels behind HAProxy (deploy/haproxy/haproxy.cfg, as
# written) with 1, 2 and 3 instances, and one instance reached directly as the baseline, into
# bench/results/farm-DATE[-quick].{md,tsv}.
#
#   bench/farm.sh [--quick] [--repeat N] [--models "epoll threads"] [--clients C] [--duration S]
#
# For each model and each set-up (direct, haproxy x1, x2, x3), interleaved within a repeat:
#   sessions   `netmodels bench ftp-sessions -c C`: connect, login, LIST, RETR 64 KiB, QUIT in a
#              closed loop (two passive data connections a session, both through HAProxy's
#              per-instance ranges); sessions/s, p99 session time
#   storm      `netmodels bench ftp-sessions --login-storm -c 300`: seconds until all are in
#   CPU        HAProxy's and the instances' (utime + stime from /proc/PID/stat, process trees)
#              over the measured seconds, as cores busy, and the whole machine's (/proc/stat)
#              beside them, to tell a saturated machine; the storm's CPU in ms
# Median of the repeats with (min-max). Nothing is pinned: HAProxy (nbthread = cores), the
# instances and the load generator share the machine's cores, as a farm on one host would.
# --quick: 2 s per point, 1 repeat. bench/run.sh runs this as its test `farm`.
# NETMODELS_FARM_BUILD=DIR takes netmodels from DIR (default build-bench/, built Release when
# missing, as bench/run.sh builds it). Needs haproxy; without it, says so and exits 0.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RESULTS="$ROOT/bench/results"
BUILD="${NETMODELS_FARM_BUILD:-$ROOT/build-bench}"
PYTHON=/usr/bin/python3
CFG="$ROOT/deploy/haproxy/haproxy.cfg"

QUICK=0
REPEAT=3
REPEAT_SET=0
MODELS="epoll threads"
CLIENTS=32
DURATION=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --repeat) REPEAT="$2"; REPEAT_SET=1; shift ;;
    --models) MODELS="$2"; shift ;;
    --clients) CLIENTS="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "farm.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [[ $QUICK == 1 ]]; then
  [[ $REPEAT_SET == 1 ]] || REPEAT=1
  DURATION=${DURATION:-2}; WARMUP=0.5
else
  DURATION=${DURATION:-5}; WARMUP=1
fi
STORM=300
STORM_TIMEOUT=30
SETUPS=${NETMODELS_FARM_SETUPS:-direct 1 2 3}
DATE=$(date -u +%Y-%m-%d)
NAME="farm-$DATE"
[[ $QUICK == 0 ]] || NAME+="-quick"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

HAPROXY=$(command -v haproxy || { [[ -x /usr/sbin/haproxy ]] && echo /usr/sbin/haproxy; } || true)
if [[ -z "$HAPROXY" ]]; then
  log "farm: haproxy is not installed (apt-get install haproxy): no farm figures"
  exit 0
fi

if [[ ! -x "$BUILD/netmodels" ]]; then
  log "building (Release) in $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" \
    -DNETMODELS_BUILD_MICROBENCH=OFF > /dev/null
  make -C "$BUILD" -j"$(nproc)" netmodels > /dev/null
fi
NETMODELS="$BUILD/netmodels"

WORK=$(mktemp -d /tmp/netmodels-farm.XXXXXX)
RAW="$WORK/raw.tsv"
: > "$RAW"
FTP_ROOT="$WORK/root"
mkdir -p "$FTP_ROOT"
head -c 65536 /dev/urandom > "$FTP_ROOT/small.bin"
BAL=127.0.90.1
INST=(127.0.90.2 127.0.90.3 127.0.90.4)
PIDS=()
HAPROXY_PID=""

tree() {  # tree PID: PID and its descendants
  local c
  echo "$1"
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree "$c"; done
}
stop_all() {
  local pid p
  for pid in "${PIDS[@]}"; do
    for p in $(tree "$pid"); do kill -9 "$p" 2>/dev/null || true; done
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
  if [[ -n "$HAPROXY_PID" ]]; then
    kill "$HAPROXY_PID" 2>/dev/null || true
    wait "$HAPROXY_PID" 2>/dev/null || true
    HAPROXY_PID=""
  fi
}
cleanup() { stop_all; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# Ports: the control port, then 3 passive ranges of 200 (a session's two data connections leave
# TIME_WAITs behind on every port of the range).
pick_ports() {
  local used p ok
  used=$(ss -Htln | awk '{ n = split($4, a, ":"); print a[n] }' | sort -u)
  for _ in $(seq 1 50); do
    CTRL=$((10000 + RANDOM % 20000)); ok=1
    for ((p = CTRL; p <= CTRL + 600; p++)); do grep -qx "$p" <<< "$used" && { ok=0; break; }; done
    ((ok)) && break
  done
  PASV=("$((CTRL + 1))-$((CTRL + 200))" "$((CTRL + 201))-$((CTRL + 400))" "$((CTRL + 401))-$((CTRL + 600))")
}

haproxy_cmd() { $PYTHON "$ROOT/deploy/haproxy/haproxy-cmd.py" "$WORK/haproxy.sock" "$1"; }
up_count() {
  haproxy_cmd "show stat" 2>/dev/null |
    awk -F, '$1 == "ftp_instances" && $2 ~ /^nm/ && $18 == "UP" { n++ } END { print n + 0 }'
}

# start MODEL SETUP: instances (and HAProxy unless direct); sets TARGET.
start() {
  local model=$1 setup=$2 n i
  n=$([[ $setup == direct ]] && echo 1 || echo "$setup")
  pick_ports
  for ((i = 0; i < n; i++)); do
    local out="$WORK/nm$i.out"
    : > "$out"
    "$NETMODELS" serve --model "$model" --service ftp --root "$FTP_ROOT" --user bench:bench \
      --listen "${INST[i]}:$CTRL" --idle-timeout 0 --quiet --log-level warn \
      "${PROXY_ARGS[@]}" --pasv-ports "${PASV[i]}" --instance-id "nm$((i + 1))" \
      > "$out" 2>> "$WORK/servers.log" &
    PIDS+=($!)
    for _ in $(seq 1 100); do grep -q '^listening on ' "$out" && break; sleep 0.05; done
    grep -q '^listening on ' "$out" || { log "$model did not start"; return 1; }
  done
  if [[ $setup == direct ]]; then
    TARGET="${INST[0]}:$CTRL"
    return 0
  fi
  printf 'global\n    stats socket %s mode 600 level admin\n' "$WORK/haproxy.sock" > "$WORK/stats.cfg"
  rm -f "$WORK/haproxy.sock"
  NM_BALANCER=$BAL NM_SOURCE=$BAL NM_CONTROL_PORT=$CTRL \
    NM_INSTANCE1=${INST[0]} NM_INSTANCE2=${INST[1]} NM_INSTANCE3=${INST[2]} \
    NM_PASV1=${PASV[0]} NM_PASV2=${PASV[1]} NM_PASV3=${PASV[2]} \
    "$HAPROXY" -db -f "$CFG" -f "$WORK/stats.cfg" >> "$WORK/haproxy.log" 2>&1 &
  HAPROXY_PID=$!
  for _ in $(seq 1 100); do [[ -S "$WORK/haproxy.sock" ]] && break; sleep 0.05; done
  # The instances not started are taken out of the balance (not left to fail their checks).
  for ((i = n; i < 3; i++)); do haproxy_cmd "disable server ftp_instances/nm$((i + 1))" > /dev/null; done
  for _ in $(seq 1 100); do [[ $(up_count) == "$n" ]] && break; sleep 0.1; done
  [[ $(up_count) == "$n" ]] || {
    log "haproxy: $(up_count) servers up, not $n: $(haproxy_cmd "show stat" | awk -F, '$1 == "ftp_instances" { printf "%s=%s ", $2, $18 }')"
    return 1
  }
  TARGET="$BAL:$CTRL"
}

cpu_ticks() {  # cpu_ticks PID...: utime + stime of the processes and their descendants
  local total=0 pid p
  for pid in "$@"; do
    for p in $(tree "$pid"); do
      local stat
      stat=$(cat "/proc/$p/stat" 2>/dev/null) || continue
      stat=${stat##*) }  # past "pid (comm) ": field 3 onwards
      read -r -a f <<< "$stat"
      total=$((total + f[11] + f[12]))
    done
  done
  echo "$total"
}
HZ=$(getconf CLK_TCK)
now() { date +%s.%N; }
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >> "$RAW"; }
json_value() { $PYTHON -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], ""))' "$1" "$2"; }

# machine_ticks: "BUSY TOTAL" jiffies of every core (/proc/stat), to tell how busy the machine was
machine_ticks() { awk '$1 == "cpu" { t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t }' /proc/stat; }
haproxy_ticks() { if [[ -n "$HAPROXY_PID" ]]; then cpu_ticks "$HAPROXY_PID"; else echo 0; fi; }
# cores TICKS SECONDS: CPU time over wall time
cores() { $PYTHON -c "print(round($1 / $HZ / $2, 3))"; }

# sessions MODEL SETUP REP: the closed loop; CPU read within the measured window (after the warm-up).
sessions() {
  local model=$1 setup=$2 rep=$3 json rc=0 h0 i0 t0 h1 i1 t1 bench_pid m0 m1
  timeout 120 "$NETMODELS" bench ftp-sessions -c "$CLIENTS" --file small.bin -d "$DURATION" \
    --warmup "$WARMUP" --host "$TARGET" --user bench --password bench --json \
    > "$WORK/bench.json" 2>> "$WORK/bench.log" &
  bench_pid=$!
  # The CPU window sits inside the measured one (the readings take time, and a process that has
  # ended has no /proc entry to read).
  sleep "$($PYTHON -c "print($WARMUP + 0.1)")"
  h0=$(haproxy_ticks); i0=$(cpu_ticks "${PIDS[@]}"); m0=$(machine_ticks); t0=$(now)
  sleep "$($PYTHON -c "print(max($DURATION - 0.4, 0.2))")"
  h1=$(haproxy_ticks); i1=$(cpu_ticks "${PIDS[@]}"); m1=$(machine_ticks); t1=$(now)
  wait "$bench_pid" || rc=$?
  json=$(cat "$WORK/bench.json")
  if [[ -z "$json" ]]; then log "$model $setup sessions: no result (exit $rc)"; return 0; fi
  local wall key
  wall=$($PYTHON -c "print($t1 - $t0)")
  for key in sessions_per_s p99_ms failures; do
    record "$model" "$setup" "$rep" "$key" "$(json_value "$json" "$key")"
  done
  record "$model" "$setup" "$rep" haproxy_cores "$(cores $((h1 - h0)) "$wall")"
  record "$model" "$setup" "$rep" instances_cores "$(cores $((i1 - i0)) "$wall")"
  # The whole machine's busy cores: the load generator and whatever else ran (it is shared).
  record "$model" "$setup" "$rep" machine_cores "$(cores $((${m1% *} - ${m0% *})) "$wall")"
  record "$model" "$setup" "$rep" haproxy_us_per_session \
    "$($PYTHON -c "s = $(json_value "$json" sessions_per_s) * $wall; print(round(($h1 - $h0) / $HZ / s * 1e6, 1) if s else 0)")"
  log "$model $setup sessions: $(tail -n 7 "$RAW" | cut -f4,5 | tr '\t\n' '= ')"
}

# storm MODEL SETUP REP: 300 logins at once; the CPU it cost HAProxy and the instances, in ms.
storm() {
  local model=$1 setup=$2 rep=$3 json rc=0 h0 i0 h1 i1 key
  h0=$(haproxy_ticks); i0=$(cpu_ticks "${PIDS[@]}")
  json=$(timeout 120 "$NETMODELS" bench ftp-sessions --login-storm -c "$STORM" \
    --timeout "$STORM_TIMEOUT" --host "$TARGET" --user bench --password bench --json \
    2>> "$WORK/bench.log") || rc=$?
  h1=$(haproxy_ticks); i1=$(cpu_ticks "${PIDS[@]}")
  if [[ -z "$json" ]]; then log "$model $setup storm: no result (exit $rc)"; return 0; fi
  for key in login_storm_s logged_in failures; do
    record "$model" "$setup" "$rep" "storm_$key" "$(json_value "$json" "$key")"
  done
  record "$model" "$setup" "$rep" storm_haproxy_ms $(((h1 - h0) * 1000 / HZ))
  record "$model" "$setup" "$rep" storm_instances_ms $(((i1 - i0) * 1000 / HZ))
  log "$model $setup storm: $(tail -n 5 "$RAW" | cut -f4,5 | tr '\t\n' '= ')"
}

START=$(date +%s)
ulimit -n "$(ulimit -Hn)"
for rep in $(seq 1 "$REPEAT"); do
  log "=== repeat $rep of $REPEAT"
  for model in $MODELS; do
    for setup in $SETUPS; do
      PROXY_ARGS=()
      [[ $setup == direct ]] ||
        PROXY_ARGS=(--proxy-protocol v2 --proxy-trusted "$BAL/32" --pasv-address "$BAL")
      if start "$model" "$setup"; then
        sessions "$model" "$setup" "$rep"
        storm "$model" "$setup" "$rep"
      fi
      stop_all
    done
  done
done

mkdir -p "$RESULTS"
cp "$RAW" "$RESULTS/$NAME.tsv"
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
$PYTHON - "$RAW" "$RESULTS/$NAME.md" <<PY
import collections, statistics, sys
raw, out = sys.argv[1], sys.argv[2]
values = collections.defaultdict(list)
for line in open(raw):
    model, setup, rep, key, value = line.rstrip("\n").split("\t")
    if value != "":
        values[(model, setup, key)].append(float(value))
def cell(model, setup, key, digits):
    v = values.get((model, setup, key))
    if not v:
        return "-"
    f = lambda x: f"{x:,.{digits}f}"
    if len(v) == 1:
        return f(v[0])
    return f"{f(statistics.median(v))} ({f(min(v))}-{f(max(v))})"
models = "$MODELS".split()
setups = [("direct", "direct, 1 instance"), ("1", "HAProxy, 1 instance"),
          ("2", "HAProxy, 2 instances"), ("3", "HAProxy, 3 instances")]
with open(out, "w") as o:
    o.write("# Farm benchmark (issue 12), $DATE\n\n")
    o.write("Machine: $(nproc) cores, ${CPU_MODEL:-unknown CPU}, Linux $(uname -r), "
            "$("$HAPROXY" -v | head -1 | cut -d' ' -f1-3). "
            "Commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown). "
            "Mode: $([[ $QUICK == 1 ]] && echo quick || echo full), repeat $REPEAT, "
            "${DURATION} s per point, $CLIENTS clients, storm of $STORM.\n\n")
    o.write("Median of the repeats, (min-max) beside it. sessions: $CLIENTS clients each "
            "looping connect, login, LIST, RETR 64 KiB, QUIT (two passive data connections a "
            "session, through HAProxy's per-instance ranges); HAProxy / instances cores: their "
            "CPU seconds over the measured seconds (all instances together); machine busy cores: "
            "every core's busy time over those seconds (/proc/stat): the load generator, HAProxy, "
            "the instances and anything else running on the shared machine; storm: $STORM "
            "clients log in at once and hold, seconds until the last is in, and the CPU that cost. "
            "Nothing pinned: HAProxy (nbthread = cores), the instances and the load generator "
            "share the cores.\n\n")
    o.write("| model | set-up | sessions/s | p99 session ms | HAProxy cores | instances cores | "
            "machine busy cores | HAProxy us/session | "
            "300-login storm s | storm: HAProxy CPU ms | storm: instances CPU ms | failures |\n"
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    for m in models:
        for s, label in setups:
            fails = sum(values.get((m, s, "failures"), []) + values.get((m, s, "storm_failures"), []))
            o.write(f"| {m} | {label} | {cell(m, s, 'sessions_per_s', 0)} | "
                    f"{cell(m, s, 'p99_ms', 1)} | {cell(m, s, 'haproxy_cores', 2)} | "
                    f"{cell(m, s, 'instances_cores', 2)} | {cell(m, s, 'machine_cores', 2)} | "
                    f"{cell(m, s, 'haproxy_us_per_session', 0)} | "
                    f"{cell(m, s, 'storm_login_storm_s', 3)} | "
                    f"{cell(m, s, 'storm_haproxy_ms', 0)} | {cell(m, s, 'storm_instances_ms', 0)} | "
                    f"{fails:.0f} |\n")
print(open(out).read())
PY
log "done in $(( $(date +%s) - START )) s: $RESULTS/$NAME.md"
