#!/usr/bin/env bash
# Installs the Debian packages netmodels needs to build, test and benchmark. Safe to run again:
# it only calls apt-get when something is missing. Needs root (or sudo).
set -euo pipefail

packages=(
  # build
  cmake g++ make pkg-config clang-format
  libcli11-dev libtomlplusplus-dev libfmt-dev libspdlog-dev
  liburing-dev libedit-dev libcrypt-dev libasio-dev libssl-dev openssl
  libgtest-dev libgmock-dev libbenchmark-dev
  # tests: ftplib (python3), curl, lftp, tnftp (Telnet ABOR through a pty) and rclone as FTP
  # clients, vsftpd as a reference server
  python3 curl lftp tnftp rclone vsftpd procps
  # a real balancer in front (tests/integration/proxy_test.py: send-proxy-v2; scripts/farm-test.sh:
  # three instances behind it, ss from iproute2 to find free ports)
  haproxy iproute2
  # installing and running as a service: sd_notify, man pages from --help (help2man) rendered
  # with man-db, systemd-analyze verify, fail2ban-regex, cpack's .deb (dpkg-shlibdeps, file)
  libsystemd-dev help2man man-db systemd fail2ban dpkg-dev file git
  # fuzzing (scripts/fuzz.sh: clang 14's libFuzzer) and fault injection (tests/stress/faults.py)
  clang-14 libclang-rt-14-dev fiu-utils
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# promtool (checks the --metrics-listen text in the tests) comes from Debian's prometheus package,
# which would also install and start a Prometheus server: take promtool alone out of the package.
if ! command -v promtool >/dev/null; then
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  work=$(mktemp -d)
  if (cd "$work" && { apt-get download -qq prometheus >/dev/null 2>&1 ||
        { "${sudo_cmd[@]}" apt-get update -qq && apt-get download -qq prometheus >/dev/null; }; }) &&
     dpkg-deb -x "$work"/prometheus_*.deb "$work/x"; then
    "${sudo_cmd[@]}" install -m 755 "$work/x/usr/bin/promtool" /usr/local/bin/promtool
  else
    echo "promtool not installed: the metrics tests will not run it" >&2
  fi
  rm -rf "$work"
fi
