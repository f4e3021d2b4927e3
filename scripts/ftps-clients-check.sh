#!/usr/bin/env bash
# FTPS as users meet it: real clients (rclone, lftp, wget, Python's aioftp, curl) against
# `netmodels serve --service ftp` with a self-signed certificate, explicit (AUTH TLS) and
# implicit (--implicit-tls) listeners, default TLS options, every byte compared by sha256.
#
#   scripts/ftps-clients-check.sh [MODEL...]        default: epoll prefork thread-pool
#
# Builds nothing: NETMODELS_BIN names the binary (default: build/netmodels). Loopback only.
# The iterative model serves one connection at a time, so there the checks that need several
# connections at once run with one (lftp --parallel=1, pget -n 1) or are skipped (rclone
# --transfers 4). Each client runs over TLS 1.3 (the default) and, where it can be told, TLS 1.2.
# Per model it starts one server (ports chosen by the kernel, read from its stdout), runs every
# client it finds, stops the server by its pid (SIGTERM, exit status 0 expected) and prints the
# server's TLS log lines (event=tls-*). A missing client is skipped with a message, not failed.
# Environment:
#   NETMODELS_BIN     the netmodels binary
#   CLIENTS           which checks to run (default: "rclone lftp wget aioftp curl")
#   KEEP=1            keep the work folder (server logs, client outputs) and print its path
#   CHECK_TIMEOUT     seconds one client command may take (default 120)
#   STRICT=1          count known client bugs (XFAIL) as failures
# Known client bugs are reported as XFAIL, with the server's log line that shows the cause, and
# do not fail the run: rclone < 1.64 with several connections (rclone#7234), aioftp's data
# handshake before the command, curl 7.87-7.88 in active mode (curl#10666). See each check.
# Exit status: 0 when every check that ran passed, 1 otherwise, 2 on a usage error.
# Last line: "ftps-clients: N passed, N failed, N skipped".
#
# Packages (Debian): rclone lftp wget curl python3-aioftp openssl
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
bin=${NETMODELS_BIN:-$here/build/netmodels}
clients=${CLIENTS:-"rclone lftp wget aioftp curl"}
tmo=${CHECK_TIMEOUT:-120}
models=("$@")
((${#models[@]})) || models=(epoll prefork thread-pool)

if [[ ! -x $bin ]]; then
  echo "ftps-clients-check: no netmodels binary at $bin (set NETMODELS_BIN)" >&2
  exit 2
fi
command -v openssl >/dev/null || { echo "ftps-clients-check: needs openssl" >&2; exit 2; }
for c in $clients; do
  case $c in
    rclone|lftp|wget|aioftp|curl) ;;
    *) echo "ftps-clients-check: unknown client '$c' in CLIENTS (rclone lftp wget aioftp curl)" >&2; exit 2 ;;
  esac
done

work=$(mktemp -d /tmp/ftps-clients.XXXXXX)
server_pid=""
cleanup() {
  if [[ -n $server_pid ]]; then
    kill -TERM "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  if [[ ${KEEP:-0} == 1 ]]; then echo "ftps-clients-check: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

passed=0 failed=0 skipped=0 xfailed=0
failures=() xfailures=()
pass() { passed=$((passed + 1)); printf 'PASS  %-12s %s\n' "$model" "$1"; }
fail() {
  failed=$((failed + 1)); failures+=("$model: $1")
  printf 'FAIL  %-12s %s\n' "$model" "$1"
  [[ -n ${2:-} && -f $2 ]] && sed 's/^/      | /' "$2" | tail -n 25
}
xfail() {
  if [[ ${STRICT:-0} == 1 ]]; then fail "(known client bug) $1"; return; fi
  xfailed=$((xfailed + 1)); xfailures+=("$model: $1")
  printf 'XFAIL %-12s %s\n' "$model" "$1"
}
skip() { skipped=$((skipped + 1)); printf 'SKIP  %-12s %s\n' "$model" "$1"; }
have() { command -v "$1" >/dev/null 2>&1; }
want() { [[ " $clients " == *" $1 "* ]]; }

# Runs a client command with a time limit, its output in $out; returns its status.
run() {
  local out=$1; shift
  { echo "+ $*"; timeout --kill-after=5 "$tmo" "$@"; } >"$out" 2>&1
  local rc=$?
  echo "exit status $rc" >>"$out"
  return $rc
}

# Compares two trees file by file (relative names and sha256); prints the differences.
same_tree() {
  diff <(cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum) \
       <(cd "$2" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}
# The server log lines written since log_mark was called.
log_mark() { log_at=$(wc -l <"$srv_err"); }
log_since() { tail -n +"$((log_at + 1))" "$srv_err"; }
# Whether those lines match; no `| grep -q` under pipefail: grep -q leaving early can make the
# writer die of SIGPIPE and the pipeline fail although the line is there.
log_has() { log_since | grep -e "$1" >/dev/null; }
same_file() { [[ -f $1 && -f $2 ]] && [[ $(sha256sum <"$1") == $(sha256sum <"$2") ]]; }

# Test data, made once: a tree of files of awkward sizes (0 bytes, odd, a few MiB) and a 20 MiB
# file for the segmented downloads.
data=$work/data
mkdir -p "$data/tree/sub/deeper"
: >"$data/tree/empty.bin"
head -c 1 /dev/urandom >"$data/tree/one.bin"
for i in 1 2 3 4 5 6; do head -c $((i * 377773)) /dev/urandom >"$data/tree/f$i.bin"; done
head -c 4194305 /dev/urandom >"$data/tree/sub/four-mib-plus-one.bin"
head -c 65536 /dev/urandom >"$data/tree/sub/deeper/sixty-four-k.bin"
printf 'line one\r\nline two\n' >"$data/tree/sub/text.txt"
head -c $((20 * 1024 * 1024)) /dev/urandom >"$data/big.bin"

tls=$work/tls
mkdir -p "$tls"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -days 2 \
  -keyout "$tls/key.pem" -out "$tls/cert.pem" 2>/dev/null ||
  { echo "ftps-clients-check: openssl could not make a certificate" >&2; exit 2; }

user=alice pass=s3cret.pass

start_server() {
  root=$work/$model/root
  mkdir -p "$root"
  srv_out=$work/$model/server.out srv_err=$work/$model/server.err
  "$bin" serve --service ftp --model "$model" --root "$root" --listen 127.0.0.1:0 \
    --implicit-tls 127.0.0.1:0 --tls-cert "$tls/cert.pem" --tls-key "$tls/key.pem" \
    --no-anonymous --user "$user:$pass" >"$srv_out" 2>"$srv_err" &
  server_pid=$!
  port="" iport=""
  for _ in $(seq 100); do
    port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$srv_out")
    iport=$(sed -n 's/^implicit TLS on .*:\([0-9]*\)$/\1/p' "$srv_out")
    [[ -n $port && -n $iport ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "ftps-clients-check: the $model server did not start:" >&2
  cat "$srv_out" "$srv_err" >&2
  return 1
}

stop_server() {
  kill -TERM "$server_pid" 2>/dev/null
  local rc=0 i
  for i in $(seq 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=""
    fail "server stopped by SIGTERM within 10 s" "$srv_err"
    return
  fi
  wait "$server_pid"; rc=$?
  server_pid=""
  if ((rc == 0)); then pass "server exit status 0 after SIGTERM"
  else fail "server exit status $rc after SIGTERM" "$srv_err"; fi
}

# rclone before 1.64 keeps one TLS session cache for all its connections (rclone#7234, fixed in
# 1.64 by a cache per connection), so with several connections a data connection may resume the
# session of another control connection. Servers that check the data connection resumes its
# own control connection's session (FileZilla Server, netmodels by default) refuse it: 522 here,
# event=tls-data-refused reason=foreign-session in the log. That outcome is reported as XFAIL
# (not failing the run; STRICT=1 makes it a failure), and the same transfers are then checked
# with one connection (--ftp-concurrency 1), the workaround for those versions.
rclone_fixed() {
  local v
  v=$(rclone version 2>/dev/null | sed -n '1s/^rclone v\([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
  [[ -n $v ]] || return 1
  set -- $v
  (($1 > 1 || ($1 == 1 && $2 >= 64)))
}

check_rclone() {
  have rclone || { skip "rclone: not installed (apt-get install rclone)"; return; }
  local d=$work/$model/rclone obscured
  mkdir -p "$d"
  obscured=$(rclone obscure "$pass")
  local opts=(--config /dev/null --retries 1 --low-level-retries 1 --contimeout 10s --timeout 30s)
  local ex=":ftp,host=localhost,port=$port,user=$user,pass=$obscured,explicit_tls=true,no_check_certificate=true:"
  local im=":ftp,host=localhost,port=$iport,user=$user,pass=$obscured,tls=true,no_check_certificate=true:"
  # Default options: 4 transfers and 4 checkers at once, so several control and data connections.
  local ok=1
  if [[ $model == iterative ]]; then
    skip "rclone --transfers 4: iterative serves one connection at a time, rclone's extra connections wait in the backlog until they time out"
  else
    log_mark
    run "$d/copy-up.log" rclone copy "${opts[@]}" --transfers 4 --checkers 4 "$data/tree" "${ex}rc-tree" &&
      same_tree "$data/tree" "$root/rc-tree" >"$d/diff-up" 2>&1 || ok=0
    if ((ok)); then
      run "$d/lsf.log" rclone lsf "${opts[@]}" -R --files-only "${ex}rc-tree" &&
        diff <(grep -v -e '^+ ' -e '^exit status' -e ' NOTICE: ' "$d/lsf.log" | sort) \
             <(cd "$data/tree" && find . -type f | sed 's|^\./||' | sort) >"$d/diff-lsf" || ok=0
    fi
    if ((ok)); then
      run "$d/copy-down.log" rclone copy "${opts[@]}" --transfers 4 --checkers 4 "${ex}rc-tree" "$d/down" &&
        same_tree "$data/tree" "$d/down" >"$d/diff-down" 2>&1 || ok=0
    fi
    if ((ok)); then
      pass "rclone copy up, lsf -R, copy down (explicit, --transfers 4 --checkers 4): tree sha256"
    elif ! rclone_fixed && grep -q '^522 \|\* 522 ' "$d"/copy-*.log "$d/lsf.log" 2>/dev/null &&
         log_has 'event=tls-data-refused reason=foreign-session'; then
      xfail "rclone $(rclone version | sed -n '1s/^rclone //p') --transfers 4 (explicit): 522 foreign-session, rclone < 1.64 shares one TLS session cache across connections (rclone#7234)"
      grep -m 2 -h '522' "$d"/copy-*.log "$d/lsf.log" 2>/dev/null | sed 's/^/      | /'
      log_since | grep -m 2 'event=tls-data-refused' | sed 's/^/      | /'
    else
      fail "rclone --transfers 4 (explicit)" "$d/copy-up.log"
      cat "$d/diff-up" "$d/diff-lsf" "$d/diff-down" 2>/dev/null | head -n 20
    fi
  fi
  # One connection at a time: what rclone < 1.64 needs against a server that checks the reuse.
  local one=(--ftp-concurrency 1 --transfers 1 --checkers 1)
  if run "$d/serial-up.log" rclone copy "${opts[@]}" "${one[@]}" "$data/tree" "${ex}rc-serial" &&
     same_tree "$data/tree" "$root/rc-serial" >"$d/diff-serial-up" 2>&1 &&
     run "$d/serial-down.log" rclone copy "${opts[@]}" "${one[@]}" "${ex}rc-serial" "$d/serial-down" &&
     same_tree "$data/tree" "$d/serial-down" >"$d/diff-serial-down" 2>&1; then
    pass "rclone copy up + down with --ftp-concurrency 1 (explicit): tree sha256"
  else
    fail "rclone copy with --ftp-concurrency 1 (explicit)" "$d/serial-up.log"
    cat "$d/serial-down.log" "$d/diff-serial-up" "$d/diff-serial-down" 2>/dev/null | tail -n 20
  fi
  if run "$d/copyto.log" rclone copyto "${opts[@]}" "$data/big.bin" "${ex}rc-big.bin" &&
     same_file "$data/big.bin" "$root/rc-big.bin"; then
    pass "rclone copyto 20 MiB up (explicit)"
  else fail "rclone copyto 20 MiB up (explicit)" "$d/copyto.log"; fi
  if run "$d/implicit.log" rclone copyto "${opts[@]}" "${im}rc-big.bin" "$d/big-implicit.bin" &&
     same_file "$data/big.bin" "$d/big-implicit.bin"; then
    pass "rclone copyto 20 MiB down (implicit, tls=true)"
  else fail "rclone copyto 20 MiB down (implicit, tls=true)" "$d/implicit.log"; fi
}

check_lftp() {
  have lftp || { skip "lftp: not installed (apt-get install lftp)"; return; }
  local d=$work/$model/lftp
  mkdir -p "$d"
  # One line: lftp runs a multi-line -e/-c script's first line before the connection is made.
  local set="set cmd:fail-exit yes; set net:max-retries 1; set net:timeout 30; set ssl:ca-file $tls/cert.pem; set ssl:check-hostname yes; set ftp:ssl-force true; set ftp:ssl-protect-data true; set ftp:ssl-protect-list true"
  local ex="open -u $user,$pass -p $port localhost" im="open -u $user,$pass ftps://localhost:$iport"
  # iterative serves one connection at a time: lftp's extra connections would wait until timeout.
  local n=4
  [[ $model == iterative ]] && n=1
  cp "$data/big.bin" "$root/lf-big.bin"
  if run "$d/mirror-up.log" lftp -c "$set; $ex; mirror -R --parallel=$n $data/tree lf-tree" &&
     same_tree "$data/tree" "$root/lf-tree" >"$d/diff-up" 2>&1; then
    pass "lftp mirror -R --parallel=$n (ftp:ssl-force, ssl:ca-file): tree sha256 on disk"
  else fail "lftp mirror -R --parallel=$n" "$d/mirror-up.log"; cat "$d/diff-up" 2>/dev/null; fi
  if run "$d/mirror-down.log" lftp -c "$set; $ex; mirror --parallel=$n lf-tree $d/down" &&
     same_tree "$data/tree" "$d/down" >"$d/diff-down" 2>&1; then
    pass "lftp mirror --parallel=$n (download): tree sha256"
  else fail "lftp mirror --parallel=$n (download)" "$d/mirror-down.log"; cat "$d/diff-down" 2>/dev/null; fi
  if run "$d/pget.log" lftp -c "$set; $ex; pget -n $n lf-big.bin -o $d/big.bin" &&
     same_file "$data/big.bin" "$d/big.bin"; then
    pass "lftp pget -n $n of 20 MiB ($n connections, REST): sha256"
  else fail "lftp pget -n $n of 20 MiB" "$d/pget.log"; fi
  # TLS 1.2: the data connection resumes by session ID / ticket rather than a TLS 1.3 PSK.
  if run "$d/tls12.log" lftp -c "$set; set ssl:priority NORMAL:-VERS-TLS1.3; $ex; mirror -R --parallel=$n $data/tree lf-tree12; pget -n $n lf-big.bin -o $d/big12.bin" &&
     same_tree "$data/tree" "$root/lf-tree12" >"$d/diff-12" 2>&1 && same_file "$data/big.bin" "$d/big12.bin"; then
    pass "lftp over TLS 1.2 only: mirror -R --parallel=$n + pget -n $n: sha256"
  else fail "lftp over TLS 1.2 only" "$d/tls12.log"; cat "$d/diff-12" 2>/dev/null; fi
  # Active mode (PORT/EPRT): the server connects to lftp, and is still the TLS server.
  if run "$d/active.log" lftp -c "$set; set ftp:passive-mode false; $ex; put $data/tree/f2.bin -o lf-active.bin; get lf-big.bin -o $d/big-active.bin" &&
     same_file "$data/tree/f2.bin" "$root/lf-active.bin" && same_file "$data/big.bin" "$d/big-active.bin"; then
    pass "lftp active mode (ftp:passive-mode false) put + get 20 MiB: sha256"
  else fail "lftp active mode put + get" "$d/active.log"; fi
  if run "$d/implicit.log" lftp -c "$set; $im; put $data/tree/f3.bin -o lf-implicit.bin; get lf-big.bin -o $d/big-implicit.bin" &&
     same_file "$data/tree/f3.bin" "$root/lf-implicit.bin" && same_file "$data/big.bin" "$d/big-implicit.bin"; then
    pass "lftp ftps:// (implicit) put + get: sha256"
  else fail "lftp ftps:// (implicit) put + get" "$d/implicit.log"; fi
}

# wget (GnuTLS) saves the control connection's session right after the handshake; under TLS 1.3
# GnuTLS waits only about RTT + 60 ms for the server's NewSessionTicket (gnutls_session_get_data2)
# and otherwise saves nothing ("WARNING: Could not save SSL session data"), so the data connection
# cannot resume ("The specified session has been invalidated"). The server sends its tickets with
# the end of the handshake; on a machine loaded far past its cores the 60 ms can still pass.
# That one symptom is retried once and said so.
run_wget() {
  local out=$1
  run "$@" && return 0
  grep -q 'Could not save SSL session data' "$out" || return 1
  mv "$out" "$out.first"
  echo "      (wget missed the TLS 1.3 session ticket (GnuTLS waits RTT + 60 ms): retried once)"
  run "$@"
}

check_wget() {
  have wget || { skip "wget: not installed (apt-get install wget)"; return; }
  local d=$work/$model/wget
  mkdir -p "$d"
  cp "$data/big.bin" "$root/wg-big.bin"
  cp "$data/tree/f5.bin" "$root/wg-f5.bin"
  local auth="$user:$pass"
  if run_wget "$d/explicit.log" wget -nv --tries=1 --timeout=30 --ca-certificate="$tls/cert.pem" \
       -O "$d/big.bin" "ftps://$auth@localhost:$port/wg-big.bin" &&
     same_file "$data/big.bin" "$d/big.bin"; then
    pass "wget ftps:// (explicit AUTH TLS, resumes the session on data): 20 MiB sha256"
  else fail "wget ftps:// (explicit)" "$d/explicit.log"; fi
  if run_wget "$d/implicit.log" wget -nv --tries=1 --timeout=30 --ftps-implicit \
       --ca-certificate="$tls/cert.pem" -O "$d/f5.bin" "ftps://$auth@localhost:$iport/wg-f5.bin" &&
     same_file "$data/tree/f5.bin" "$d/f5.bin"; then
    pass "wget --ftps-implicit: sha256"
  else fail "wget --ftps-implicit" "$d/implicit.log"; fi
  # TLS 1.2 only: wget's --secure-protocol=TLSv1_2 means 1.2 or later with GnuTLS, so a priority.
  if run_wget "$d/tls12.log" wget -nv --tries=1 --timeout=30 --ciphers=NORMAL:-VERS-TLS1.3 \
       --ca-certificate="$tls/cert.pem" -O "$d/big12.bin" "ftps://$auth@localhost:$port/wg-big.bin" &&
     same_file "$data/big.bin" "$d/big12.bin"; then
    pass "wget ftps:// over TLS 1.2 (--ciphers=NORMAL:-VERS-TLS1.3): 20 MiB sha256"
  else fail "wget ftps:// over TLS 1.2" "$d/tls12.log"; fi
  # A resumed download (REST) over TLS: half the file is there already.
  head -c 10485760 "$data/big.bin" >"$d/big-cont.bin"
  if run_wget "$d/continue.log" wget -nv --tries=1 --timeout=30 -c --ca-certificate="$tls/cert.pem" \
       -O "$d/big-cont.bin" "ftps://$auth@localhost:$port/wg-big.bin" &&
     same_file "$data/big.bin" "$d/big-cont.bin"; then
    pass "wget -c ftps:// (REST 10 MiB then the rest): sha256"
  else fail "wget -c ftps:// (REST)" "$d/continue.log"; fi
  # Without session resumption the default server refuses the data connection (the reuse rule,
  # RFC 4217 s. 10.2 advice): wget must fail cleanly, not hang, and the server log says why.
  log_mark
  if run "$d/no-resume.log" wget -nv --tries=1 --timeout=30 --no-ftps-resume-ssl \
       --ca-certificate="$tls/cert.pem" -O "$d/noresume.bin" "ftps://$auth@localhost:$port/wg-f5.bin"; then
    fail "wget --no-ftps-resume-ssl was served although the server requires session reuse" "$d/no-resume.log"
  elif log_has 'event=tls-data-refused'; then
    pass "wget --no-ftps-resume-ssl refused in time (event=tls-data-refused)"
  else fail "wget --no-ftps-resume-ssl: failed but the server logged no tls-data-refused" "$d/no-resume.log"; fi
}

check_aioftp() {
  local py=/usr/bin/python3
  if ! [[ -x $py ]] || ! "$py" -c 'import aioftp' 2>/dev/null; then
    skip "aioftp: no python3-aioftp for $py (apt-get install python3-aioftp)"; return
  fi
  local d=$work/$model/aioftp
  mkdir -p "$d"
  cp "$data/tree/f4.bin" "$root/aio-f4.bin"
  # aioftp (0.21, Debian 12) has no AUTH TLS: ssl= makes the control connection and every data
  # connection TLS from the first byte, so it speaks to the implicit port only, and it does not
  # resume the control session on data connections. It also does the data connection's TLS
  # handshake as soon as it connects, before it sends RETR, while netmodels (like vsftpd) starts
  # that handshake after the command's 150: each side waits for the other until aioftp's 60 s
  # handshake limit. So this checks the outcome is one of: served right, refused cleanly
  # (tls-data-refused), or that known stall (XFAIL), cut short after 20 s.
  cat >"$d/aio.py" <<'PY'
import asyncio, ssl, sys, aioftp
host, port, user, pw, cafile, remote, local = sys.argv[1:8]
async def main():
    ctx = ssl.create_default_context(cafile=cafile)
    async with aioftp.Client.context(host, int(port), user, pw, ssl=ctx, socket_timeout=20) as c:
        await c.download(remote, local, write_into=True)
asyncio.run(main())
PY
  log_mark
  local rc=0
  tmo=20 run "$d/implicit.log" "$py" "$d/aio.py" localhost "$iport" "$user" "$pass" \
    "$tls/cert.pem" aio-f4.bin "$d/f4.bin" || rc=$?
  if ((rc == 0)) && same_file "$data/tree/f4.bin" "$d/f4.bin"; then
    pass "aioftp implicit TLS download: sha256"
  elif ((rc == 0)); then
    fail "aioftp implicit TLS download: wrong bytes" "$d/implicit.log"
  elif log_has 'event=tls-data-refused'; then
    pass "aioftp implicit TLS (no session reuse) refused cleanly (event=tls-data-refused)"
  elif ((rc == 124)) && ! log_has 'event=tls-data'; then
    xfail "aioftp $("$py" -c 'import aioftp; print(aioftp.__version__)') implicit TLS: stalls, it handshakes on the data connection before sending RETR, the server waits for RETR before its handshake"
  else fail "aioftp implicit TLS: exit status $rc" "$d/implicit.log"; fi
}

check_curl() {
  have curl || { skip "curl: not installed"; return; }
  local d=$work/$model/curl
  mkdir -p "$d"
  if run "$d/up.log" curl -sS --ssl-reqd --cacert "$tls/cert.pem" --max-time "$tmo" \
       -u "$user:$pass" -T "$data/tree/f6.bin" "ftp://localhost:$port/curl-f6.bin" &&
     run "$d/down.log" curl -sS --cacert "$tls/cert.pem" --max-time "$tmo" -u "$user:$pass" \
       -o "$d/f6.bin" "ftps://localhost:$iport/curl-f6.bin" &&
     same_file "$data/tree/f6.bin" "$root/curl-f6.bin" && same_file "$data/tree/f6.bin" "$d/f6.bin"; then
    pass "curl --ssl-reqd upload (explicit) + ftps:// download (implicit): sha256"
  else fail "curl explicit upload / implicit download" "$d/up.log"; cat "$d/down.log" 2>/dev/null; fi
  # Active mode. curl 7.87.0 to 7.88.1 (Debian 12 has 7.88.1) forget TLS on an active data
  # connection (curl#10666, fixed in 8.0.0): plain bytes where the server expects a ClientHello,
  # which the server refuses (event=tls-data-failed ... wrong version number). Only the upload
  # is tried with those versions (a download waits for --tls-handshake-timeout, 10 s).
  local cv
  cv=$(curl --version | sed -n '1s/^curl \([0-9.]*\).*/\1/p')
  log_mark
  if run "$d/active-up.log" curl -sS --ssl-reqd --cacert "$tls/cert.pem" --max-time 30 \
       --ftp-port 127.0.0.1 -u "$user:$pass" -T "$data/tree/f1.bin" "ftp://localhost:$port/curl-active.bin" &&
     same_file "$data/tree/f1.bin" "$root/curl-active.bin"; then
    pass "curl --ftp-port (active mode) upload: sha256"
  elif [[ $cv == 7.87.* || $cv == 7.88.* ]] && log_has 'event=tls-data-failed'; then
    xfail "curl $cv --ftp-port (active mode) upload: curl sends the data in clear (curl#10666, fixed in 8.0.0); server: $(log_since | grep -o 'event=tls-data-failed.*' | head -n 1)"
  else fail "curl --ftp-port (active mode) upload" "$d/active-up.log"; fi
  if ! [[ $cv == 7.87.* || $cv == 7.88.* ]]; then
    if run "$d/active-down.log" curl -sS --ssl-reqd --cacert "$tls/cert.pem" --max-time 30 \
         --ftp-port 127.0.0.1 -u "$user:$pass" -o "$d/f6-active.bin" "ftp://localhost:$port/curl-f6.bin" &&
       same_file "$data/tree/f6.bin" "$d/f6-active.bin"; then
      pass "curl --ftp-port (active mode) download: sha256"
    else fail "curl --ftp-port (active mode) download" "$d/active-down.log"; fi
  fi
  if run "$d/tls12.log" curl -sS --ssl-reqd --tls-max 1.2 --cacert "$tls/cert.pem" --max-time "$tmo" \
       -u "$user:$pass" -o "$d/f6-12.bin" "ftp://localhost:$port/curl-f6.bin" &&
     same_file "$data/tree/f6.bin" "$d/f6-12.bin"; then
    pass "curl --ssl-reqd --tls-max 1.2 download (explicit): sha256"
  else fail "curl --tls-max 1.2 download (explicit)" "$d/tls12.log"; fi
}

for model in "${models[@]}"; do
  mkdir -p "$work/$model"
  echo "== $model =="
  if ! start_server; then
    fail "server start"
    server_pid=""
    continue
  fi
  echo "   explicit FTPS on 127.0.0.1:$port, implicit on 127.0.0.1:$iport (pid $server_pid)"
  for c in $clients; do "check_$c"; done
  stop_server
  # The TLS events the server logged, counted (tls-data-refused is expected from the negative
  # checks; tls-failed / tls-data-truncated / tls-data-failed are worth a look).
  if grep -o 'event=tls[a-z-]*' "$srv_err" | sort | uniq -c | sed 's/^/   server log: /' | grep .; then :; fi
  if grep -E 'event=(tls-failed|tls-data-truncated|tls-data-failed)' "$srv_err" >/dev/null; then
    echo "   server TLS trouble lines:"
    grep -E 'event=(tls-failed|tls-data-truncated|tls-data-failed)' "$srv_err" | head -n 10 | sed 's/^/   | /'
  fi
done

if ((failed)); then
  echo "failures:"
  printf '  %s\n' "${failures[@]}"
fi
if ((xfailed)); then
  echo "known client bugs (XFAIL, not counted as failures; STRICT=1 counts them):"
  printf '  %s\n' "${xfailures[@]}"
fi
echo "ftps-clients: $passed passed, $failed failed, $skipped skipped"
((failed == 0))
