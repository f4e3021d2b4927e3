#!/usr/bin/env bash
# The Debian package, end to end (CI runs it as root on a clean Debian 12): build it with
# `cpack -G DEB`, install it with apt-get, check the installed binary, units and man pages, serve
# a temporary folder on 127.0.0.1 with the *installed* binary and upload and download a file with
# curl, stop the server by its pid, then remove and purge the package and check its files are gone.
#   scripts/package-test.sh [BUILD_DIR]     (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
dir=${1:-build}

if [[ $(id -u) -ne 0 ]]; then
  echo "package-test: skipped, installing a package needs root" >&2
  exit 0
fi
scripts/install-deps.sh

# A new build folder gets only what the package holds; an existing one keeps its settings.
extra=()
[[ -f $dir/CMakeCache.txt ]] ||
  extra=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DNETMODELS_BUILD_MICROBENCH=OFF -DNETMODELS_BUILD_BENCH_PEERS=OFF)
nice -n 10 cmake -S . -B "$dir" "${extra[@]}" >/dev/null
nice -n 10 cmake --build "$dir" -j"$(nproc)" --target netmodels man
# `cmake --install --prefix` honours the prefix: units and etc/ follow it.
stage=$(mktemp -d /tmp/netmodels-install.XXXXXX)
cmake --install "$dir" --prefix "$stage/opt" >/dev/null
for f in bin/netmodels lib/systemd/system/netmodels.service etc/netmodels/netmodels.toml \
         etc/fail2ban/filter.d/netmodels.conf share/man/man1/netmodels.1; do
  [[ -e $stage/opt/$f ]] || { echo "package-test: cmake --install: no $f" >&2; exit 1; }
done
grep -q "^ExecStart=$stage/opt/bin/netmodels serve --config $stage/opt/etc/netmodels/netmodels.toml" \
  "$stage/opt/lib/systemd/system/netmodels.service"
if grep -v "^$stage/opt/" "$dir/install_manifest.txt"; then
  echo "package-test: cmake --install --prefix wrote the files above outside the prefix" >&2
  exit 1
fi
rm -rf "$stage"

rm -f "$dir"/netmodels_*.deb
(cd "$dir" && nice -n 10 cpack -G DEB >/dev/null)
deb=$(ls "$dir"/netmodels_*_amd64.deb)
echo "package-test: built $deb"
dpkg-deb --field "$deb" Package Version Architecture Depends

tmp=$(mktemp -d /tmp/netmodels-package-test.XXXXXX)
pid=""
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq "$(realpath "$deb")" >/dev/null
# Minimal images (debian:12-slim) tell dpkg not to unpack man pages: check them only where
# dpkg installs them.
man=(/usr/share/man/man1/netmodels.1 /usr/share/man/man5/netmodels.toml.5)
verify_man=yes
if grep -rqs '^path-exclude.*/usr/share/man' /etc/dpkg/dpkg.cfg.d/; then
  echo "package-test: dpkg excludes /usr/share/man here: man pages not checked" >&2
  man=()
  verify_man=no
fi
files=(/usr/bin/netmodels "${man[@]}"
       /usr/lib/systemd/system/netmodels.service /usr/lib/systemd/system/netmodels@.service
       /usr/lib/sysusers.d/netmodels.conf /usr/share/doc/netmodels/examples/netmodels.toml)
conffiles=(/etc/netmodels/netmodels.toml /etc/fail2ban/filter.d/netmodels.conf
           /etc/fail2ban/jail.d/netmodels.conf /etc/logrotate.d/netmodels)
for f in "${files[@]}" "${conffiles[@]}"; do
  [[ -e $f ]] || { echo "package-test: $f not installed" >&2; exit 1; }
done
getent passwd netmodels >/dev/null || { echo "package-test: no user netmodels" >&2; exit 1; }

/usr/bin/netmodels --version
/usr/bin/netmodels --version | grep -Eq '^netmodels [0-9]+\.[0-9]+\.[0-9]+ \(git '
# The installed units, against the installed binary and man pages.
systemd-analyze verify --man=$verify_man /usr/lib/systemd/system/netmodels.service
ln -s /usr/lib/systemd/system/netmodels@.service "$tmp/netmodels@ci.service"
systemd-analyze verify --man=$verify_man "$tmp/netmodels@ci.service"
if [[ $verify_man == yes ]]; then
  man -w netmodels >/dev/null && man -w 5 netmodels.toml >/dev/null
fi
[[ -d /srv/ftp ]] || { echo "package-test: postinst made no /srv/ftp" >&2; exit 1; }
/usr/bin/netmodels serve --check-config --config /etc/netmodels/netmodels.toml >/dev/null

# Serve a temporary folder with the installed binary on an unprivileged loopback port.
mkdir "$tmp/root"
head -c 100000 /dev/urandom >"$tmp/upload.bin"
/usr/bin/netmodels serve --listen 127.0.0.1:0 --root "$tmp/root" --user ci:ci --model epoll \
  --sandbox >"$tmp/stdout" 2>"$tmp/stderr" &
pid=$!
for _ in $(seq 100); do
  grep -q '^listening on ' "$tmp/stdout" && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/stderr" >&2; exit 1; }
  sleep 0.1
done
port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/stdout")
[[ -n $port ]] || { echo "package-test: the server did not start" >&2; cat "$tmp/stderr" >&2; exit 1; }
curl -sS --max-time 20 -T "$tmp/upload.bin" "ftp://ci:ci@127.0.0.1:$port/up.bin"
curl -sS --max-time 20 -o "$tmp/download.bin" "ftp://ci:ci@127.0.0.1:$port/up.bin"
cmp "$tmp/upload.bin" "$tmp/download.bin"
kill "$pid"
wait "$pid"
pid=""
echo "package-test: upload and download through the installed binary ok"

# remove: everything but the conffiles goes; purge: the conffiles too.
apt-get remove -y -qq netmodels >/dev/null
for f in "${files[@]}"; do
  [[ ! -e $f ]] || { echo "package-test: $f left after remove" >&2; exit 1; }
done
for f in "${conffiles[@]}"; do  # conffiles: an admin's edits survive a remove
  [[ -e $f ]] || { echo "package-test: conffile $f gone after remove" >&2; exit 1; }
done
apt-get purge -y -qq netmodels >/dev/null
for f in "${conffiles[@]}"; do
  [[ ! -e $f ]] || { echo "package-test: $f left after purge" >&2; exit 1; }
done
[[ ! -e /var/log/netmodels ]] || { echo "package-test: /var/log/netmodels left after purge" >&2; exit 1; }
if dpkg-query -W -f='${Status}' netmodels 2>/dev/null | grep -q installed; then
  echo "package-test: netmodels still installed" >&2
  exit 1
fi
echo "package-test: ok ($deb)"
