"""Starting and inspecting a `netmodels serve` process for the integration tests.

Standard library only, so the tests run on Debian's /usr/bin/python3 with nothing installed.
"""

import os
import signal
import socket
import subprocess
import time


def make_certificate(folder, name="cert", common_name="localhost", alt_names=None):
    """A self-signed certificate (RSA 2048, two days) for `common_name`, which also names it in
    subjectAltName unless `alt_names` (e.g. "IP:127.0.0.1") says otherwise: (cert, key) paths."""
    cert = os.path.join(folder, name + ".pem")
    key = os.path.join(folder, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=" + common_name,
                    "-addext", "subjectAltName=" + (alt_names or "DNS:" + common_name),
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
    return cert, key


def binary():
    path = os.environ.get("NETMODELS_BIN")
    if not path:
        raise RuntimeError("set NETMODELS_BIN to the netmodels binary")
    return path


class Server:
    """`netmodels serve ...` on 127.0.0.1:0; the port comes from its `listening on` line."""

    def __init__(self, *args, limits=None, listen="127.0.0.1:0"):
        self.args = [binary(), "serve", "--listen", listen, *args]
        preexec = None
        if limits:
            import resource

            def preexec():
                for what, value in limits.items():
                    resource.setrlimit(what, value)

        self.proc = subprocess.Popen(
            self.args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=preexec,
        )
        line = self.proc.stdout.readline().decode()
        if not line.startswith("listening on "):
            if not line:
                # stdout closed: the server exited; its reason is on stderr.
                self.proc.wait(timeout=10)
            else:
                self.proc.kill()
            err = self.proc.stderr.read().decode()
            raise RuntimeError(f"server did not start: {line!r} {err}")
        self.host, _, port = line.split()[-1].rpartition(":")
        self.host = self.host.strip("[]")
        self.port = int(port)
        self.pid = self.proc.pid
        self.stopped = False

    @property
    def sanitized(self):
        """True when the server runs under a sanitizer (its runtime is mapped in)."""
        maps = _read_proc(f"/proc/{self.pid}/maps")
        if maps is None:
            return False
        return any(lib in maps for lib in ("libasan", "libtsan", "libubsan"))

    def connect(self, timeout=10):
        return socket.create_connection((self.host, self.port), timeout=timeout)

    def stop(self, timeout=15):
        """SIGTERM by pid; returns the exit status."""
        if self.stopped:
            return self.proc.returncode
        self.stopped = True
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("server did not stop within %s s of SIGTERM" % timeout)
        self.stderr_text = self.proc.stderr.read().decode(errors="replace")
        return rc

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if not self.stopped:
            try:
                self.stop()
            except AssertionError:
                pass
        self.proc.stdout.close()
        self.proc.stderr.close()


# A process may exit between the listing of /proc and the read of its files: the open then fails
# with ENOENT, or the read of a file already open with ESRCH (ProcessLookupError). Both mean "gone".
_GONE = (FileNotFoundError, ProcessLookupError)


def _read_proc(path):
    """The text of a /proc file, or None when its process has gone."""
    try:
        with open(path) as f:
            return f.read()
    except _GONE:
        return None


def descendants(pid):
    """Every process below pid, from /proc/PID/task/*/children."""
    found = []
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except _GONE:
            continue
        for t in tasks:
            text = _read_proc(f"/proc/{p}/task/{t}/children")
            if text is None:
                continue
            kids = [int(x) for x in text.split()]
            found += kids
            todo += kids
    return found


def state(pid):
    text = _read_proc(f"/proc/{pid}/stat")
    return None if text is None else text.rsplit(")", 1)[1].split()[0]


def tree_rss_kib(pid):
    """Resident memory of pid and all its descendants, in KiB."""
    total = 0
    for p in [pid] + descendants(pid):
        for line in (_read_proc(f"/proc/{p}/status") or "").splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def wait_until(predicate, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
