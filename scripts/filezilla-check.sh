#!/usr/bin/env bash
# FileZilla (the GUI client) against netmodels' FTPS, driven the way a person would use it, under
# a virtual X server. Optional and slow (about 30 s per model and mode); not part of ctest.
#
#   scripts/filezilla-check.sh [MODEL...]          default: epoll uring prefork
#
# For each model it starts `netmodels serve --service ftp` with a fresh self-signed certificate,
# an explicit (AUTH TLS) listener and an implicit one (--implicit-tls), default TLS options
# (data connections must resume the control connection's TLS session), and for each of
#   explicit  a Site Manager entry with Protocol 4 ("Require explicit FTP over TLS"),
#   implicit  a Site Manager entry with Protocol 3 ("Require implicit FTP over TLS"),
#   auto      a Site Manager entry with Protocol 0 ("Use explicit FTP over TLS if available"),
#   url       no site: the command line URL ftpes://USER:PASS@localhost:PORT (as quickconnect),
#   active    as explicit, with the site's transfer mode Active (PORT/EPRT: the server connects),
#   queue     as explicit, six remote files selected (Ctrl+A) and downloaded at once (Return):
#             FileZilla runs two transfer connections side by side, each with its own session,
# it runs FileZilla with a fresh settings folder (HOME), `filezilla -c 0/nm` (or the URL), then:
#   1. waits for the "Unknown certificate" dialog and accepts it (Return: trust for this run),
#   2. waits for the root listing ('Directory listing of "/" successful' in FileZilla's log),
#   3. double-clicks the remote file zz-down.bin (download), then the local aa-up.bin (upload);
#      FileZilla makes a second connection for transfers, and each data connection resumes its
#      control connection's TLS session (the server refuses it otherwise),
#   4. compares both files by sha256 on disk, fails on any "Error:" line in FileZilla's log or
#      any window other than the main one (the "Insecure FTP connection" dialog a server without
#      TLS gets in mode auto, or a TLS error dialog),
#   5. stops FileZilla and, at the end of the model, the server, by pid.
# Screenshots (import -window root) go to $SHOTS (default /tmp/fz-shots):
#   MODEL-MODE-1-certificate.png, MODEL-MODE-2-listing.png, MODEL-MODE-3-transfers.png
# The clicks are at fixed places of a 1280x900 screen: the main window is placed at 0,0 with
# that size through filezilla.xml ("Window position and size"), rows are 23 px apart, the first
# file row (after "..") at y=524. There is no window manager.
#
# Environment: NETMODELS_BIN (default build/netmodels), SHOTS, KEEP=1 (keep the work folder),
#   MODES (default "explicit implicit auto url active queue").
# Packages (Debian): filezilla xvfb xdotool imagemagick openssl
# Exit status: 0 all passed, 1 a check failed, 2 usage error, 77 something needed is missing.
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
bin=${NETMODELS_BIN:-$here/build/netmodels}
shots=${SHOTS:-/tmp/fz-shots}
modes=${MODES:-"explicit implicit auto url active queue"}
models=("$@")
((${#models[@]})) || models=(epoll uring prefork)

[[ -x $bin ]] || { echo "filezilla-check: no netmodels binary at $bin (set NETMODELS_BIN)" >&2; exit 2; }
missing=()
for tool in filezilla Xvfb xdotool import openssl; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "filezilla-check: SKIP, missing ${missing[*]} (apt-get install filezilla xvfb xdotool imagemagick)" >&2
  exit 77
fi

mkdir -p "$shots"
work=$(mktemp -d /tmp/filezilla-check.XXXXXX)
xvfb_pid="" server_pid="" fz_pid=""
stop_pid() {  # pid: TERM, up to 5 s, then KILL
  local pid=$1 i
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}
cleanup() {
  stop_pid "$fz_pid"; stop_pid "$server_pid"; stop_pid "$xvfb_pid"
  if [[ ${KEEP:-0} == 1 ]]; then echo "filezilla-check: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

passed=0 failed=0
failures=()
pass() { passed=$((passed + 1)); printf 'PASS  %-8s %-9s %s\n' "$model" "$mode" "$1"; }
fail() {
  failed=$((failed + 1)); failures+=("$model $mode: $1")
  printf 'FAIL  %-8s %-9s %s\n' "$model" "$mode" "$1"
}
shot() { import -window root "$shots/$model-$mode-$1.png" 2>/dev/null; }
# wait_for SECONDS COMMAND...: polls every 0.2 s
wait_for() {
  local n=$(($1 * 5)); shift
  while ((n-- > 0)); do "$@" && return 0; sleep 0.2; done
  return 1
}
log_count() { grep -c -- "$1" "$fzlog" 2>/dev/null || true; }
at_least() { (($(log_count "$1") >= $2)); }

# A virtual screen; -displayfd picks a free display number and tells it.
exec 3>"$work/display"
Xvfb -displayfd 3 -screen 0 1280x900x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
exec 3>&-
wait_for 10 test -s "$work/display" || { echo "filezilla-check: Xvfb did not start" >&2; exit 1; }
export DISPLAY=:$(head -n 1 "$work/display")
unset DBUS_SESSION_BUS_ADDRESS

openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -days 2 \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

user=alice pass=s3cret.pass

# FileZilla's settings (filezilla.xml) and one Site Manager entry (sitemanager.xml).
fz_config() {  # home port protocol localdir log pasvmode
  local home=$1 port=$2 protocol=$3 localdir=$4 log=$5 pasv=$6
  mkdir -p "$home/.config/filezilla"
  cat >"$home/.config/filezilla/filezilla.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<FileZilla3 version="3.63.0" platform="*nix">
  <Settings>
    <Setting name="Greeting version">99.0.0</Setting>
    <Setting name="Update Check">0</Setting>
    <Setting name="Logging file">$log</Setting>
    <Setting name="Logging Debug Level">4</Setting>
    <Setting name="Timestamp in message log">1</Setting>
    <Setting name="Window position and size">1 0 0 1280 900</Setting>
    <Setting name="Prompt password save">0</Setting>
    <Setting name="File exists action download">1</Setting>
    <Setting name="File exists action upload">1</Setting>
  </Settings>
</FileZilla3>
XML
  cat >"$home/.config/filezilla/sitemanager.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<FileZilla3 version="3.63.0" platform="*nix">
  <Servers>
    <Server>
      <Host>localhost</Host>
      <Port>$port</Port>
      <Protocol>$protocol</Protocol>
      <Type>0</Type>
      <User>$user</User>
      <Pass encoding="base64">$(printf %s "$pass" | base64)</Pass>
      <Logontype>1</Logontype>
      <PasvMode>$pasv</PasvMode>
      <EncodingType>Auto</EncodingType>
      <BypassProxy>0</BypassProxy>
      <Name>nm</Name>
      <LocalDir>$localdir</LocalDir>
      <RemoteDir></RemoteDir>
      <SyncBrowsing>0</SyncBrowsing>
      <DirectoryComparison>0</DirectoryComparison>
    </Server>
  </Servers>
</FileZilla3>
XML
}

# Windows FileZilla has mapped, by name, one per line (the main one is "nm - ftp...").
windows() {
  local w
  for w in $(xdotool search --onlyvisible --name . 2>/dev/null); do
    xdotool getwindowname "$w" 2>/dev/null
  done | sort -u
}

run_filezilla() {
  local dir=$work/$model/$mode protocol port pasv=MODE_DEFAULT
  case $mode in
    explicit) protocol=4 port=$eport ;;
    implicit) protocol=3 port=$iport ;;
    auto) protocol=0 port=$eport ;;
    url) protocol=4 port=$eport ;;
    active) protocol=4 port=$eport pasv=MODE_ACTIVE ;;
    queue) protocol=4 port=$eport ;;
    *) echo "filezilla-check: unknown mode $mode" >&2; exit 2 ;;
  esac
  local home=$dir/home localdir=$dir/local
  fzlog=$dir/filezilla.log
  mkdir -p "$localdir"
  rm -f "$root"/*.bin
  if [[ $mode == queue ]]; then
    local i
    for i in 1 2 3 4 5 6; do head -c $((i * 1500000 + 17)) /dev/urandom >"$root/q$i.bin"; done
    cp "$root"/q?.bin "$dir/"
  fi
  head -c 5000000 /dev/urandom >"$root/zz-down.bin"
  head -c 3333333 /dev/urandom >"$localdir/aa-up.bin"
  cp "$root/zz-down.bin" "$dir/zz-down.orig"
  fz_config "$home" "$port" "$protocol" "$localdir" "$fzlog" "$pasv"

  local target=(-c 0/nm)
  [[ $mode == url ]] && target=("ftpes://$user:$pass@localhost:$port")
  HOME=$home filezilla "${target[@]}" -a "$localdir" >"$dir/filezilla.out" 2>&1 &
  fz_pid=$!
  local w
  w=$(timeout 30 xdotool search --sync --onlyvisible --name 'Unknown certificate' 2>/dev/null | head -n 1)
  if [[ -z $w ]]; then
    shot 1-certificate
    fail "no 'Unknown certificate' dialog within 30 s (windows: $(windows | tr '\n' '|'))"
    stop_pid "$fz_pid"; fz_pid=""
    return
  fi
  sleep 0.5
  shot 1-certificate
  pass "certificate dialog shown ($(grep -c 'TLS' "$fzlog") TLS lines in the log so far)"
  xdotool windowfocus --sync "$w" 2>/dev/null
  xdotool key --window "$w" Return
  if wait_for 30 at_least 'Directory listing of "/" successful' 1; then
    sleep 0.5; shot 2-listing
    pass "logged in over TLS, root listed"
  else
    shot 2-listing
    fail "no root listing within 30 s"
  fi
  local geometry
  geometry=$(xdotool search --onlyvisible --name 'FileZilla$' getwindowgeometry 2>/dev/null | tr '\n' ' ')
  [[ $geometry == *"Position: 0,0"*"Geometry: 1280x"* ]] ||
    echo "      (main window: $geometry; the clicks below assume 0,0 and 1280 wide)"
  if [[ $mode == queue ]]; then
    # Select every remote file (q1..q6 and zz-down.bin), Return downloads them all.
    xdotool mousemove 708 524 click 1
    sleep 0.3
    xdotool key ctrl+a
    sleep 0.3
    xdotool key Return
    wait_for 90 at_least 'File transfer successful' 7 || fail "queue: fewer than 7 'File transfer successful' within 90 s"
    sleep 1
    shot 3-transfers
    local bad=0 f
    for f in "$dir"/q?.bin "$dir/zz-down.orig"; do
      local name=${f##*/}
      [[ $name == zz-down.orig ]] && name=zz-down.bin
      [[ -f $localdir/$name && $(sha256sum <"$localdir/$name") == $(sha256sum <"$f") ]] || bad=$((bad + 1))
    done
    if ((bad == 0)); then pass "queue of 7 downloads: every sha256 matches"
    else fail "queue: $bad of 7 files missing or different"; fi
    echo "      connections FileZilla opened: $(log_count 'Status: Connecting to') (1 browsing + transfers)"
  else
  # Download: the first file row of the remote list; upload: the first of the local list.
  xdotool mousemove 708 524 click --repeat 2 --delay 80 1
  wait_for 60 at_least 'File transfer successful' 1 || fail "download: no 'File transfer successful' within 60 s"
  sleep 1
  xdotool mousemove 54 524 click --repeat 2 --delay 80 1
  wait_for 60 at_least 'File transfer successful' 2 || fail "upload: no second 'File transfer successful' within 60 s"
  sleep 1
  shot 3-transfers
  if [[ -f $localdir/zz-down.bin && $(sha256sum <"$localdir/zz-down.bin") == $(sha256sum <"$dir/zz-down.orig") ]]; then
    pass "download of 5000000 bytes: sha256 matches"
  else fail "download: sha256 differs or file missing"; fi
  if [[ -f $root/aa-up.bin && $(sha256sum <"$root/aa-up.bin") == $(sha256sum <"$localdir/aa-up.bin") ]]; then
    pass "upload of 3333333 bytes: sha256 matches on the server's disk"
  else fail "upload: sha256 differs or file missing on the server"; fi
  fi
  local errors
  errors=$(grep -E ' (Error|Warning): ' "$fzlog" | grep -v 'Sharing violation' || true)
  if [[ -z $errors ]]; then pass "no Error/Warning line in FileZilla's log"
  else fail "FileZilla logged errors:"; printf '%s\n' "$errors" | head -n 10 | sed 's/^/      | /'; fi
  local others
  others=$(windows | grep -v -x -e '' -e 'filezilla' -e 'FileZilla' | grep -v ' - FileZilla$' || true)
  if [[ -z $others ]]; then pass "no dialog left open (no 'Insecure server', no TLS error)"
  else fail "windows open besides the main one: $(printf '%s' "$others" | tr '\n' '|')"; fi
  # The server refuses a data connection that does not resume its control connection's session
  # (event=tls-data-refused), so the transfers above passing means FileZilla resumed it.
  echo "      FileZilla log: $(log_count 'TLS connection established') TLS control connections; $fzlog"
  stop_pid "$fz_pid"; fz_pid=""
}

for model in "${models[@]}"; do
  mode=-
  mkdir -p "$work/$model"
  root=$work/$model/root
  mkdir -p "$root"
  "$bin" serve --service ftp --model "$model" --root "$root" --listen 127.0.0.1:0 \
    --implicit-tls 127.0.0.1:0 --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" \
    --no-anonymous --user "$user:$pass" >"$work/$model/server.out" 2>"$work/$model/server.err" &
  server_pid=$!
  eport="" iport=""
  started() {
    eport=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/$model/server.out")
    iport=$(sed -n 's/^implicit TLS on .*:\([0-9]*\)$/\1/p' "$work/$model/server.out")
    [[ -n $eport && -n $iport ]]
  }
  if ! wait_for 10 started; then
    fail "server did not start: $(tail -n 3 "$work/$model/server.err" | tr '\n' ' ')"
    stop_pid "$server_pid"; server_pid=""
    continue
  fi
  echo "== $model: explicit 127.0.0.1:$eport, implicit 127.0.0.1:$iport =="
  for mode in $modes; do run_filezilla; done
  mode=-
  stop_pid "$server_pid"; server_pid=""
  grep -o 'event=tls[a-z-]*\( reason=[a-z-]*\)\?' "$work/$model/server.err" | sort | uniq -c |
    sed 's/^/      server log: /'
  cp "$work/$model/server.err" "$shots/$model-server.log" 2>/dev/null
done

if ((failed)); then echo "failures:"; printf '  %s\n' "${failures[@]}"; fi
echo "screenshots in $shots"
echo "filezilla: $passed passed, $failed failed"
((failed == 0))
