#!/usr/bin/env python3
"""Soak and abuse of the FTP server, model by model, over loopback (standard library only).

    python3 tests/stress/soak.py --bin build/netmodels [--quick] [--models epoll,fork] [--seconds N]

For each model, on a fresh root folder:
  load      concurrent clients STOR / RETR / LIST / DELE random files for a bounded time; every
            download is checked against the sha256 of what was uploaded;
  leaks     the server's descriptors (/proc/PID/fd of all its processes), process count and RSS
            before and after the load and after the abuse, with a tolerance;
  abuse     slowloris (a few connections sending a byte a second: others must still be served),
            garbage bytes, PASV after PASV without connecting, hundreds of connect/close,
            --max-clients (one more connection is refused with 421, and served once a slot frees),
            a full disk (root only: a 4 MiB tmpfs as the root; an upload that does not fit gets
            452, leaves no temporary file and the previous file intact), SIGTERM with transfers
            in flight (the server exits 0, within a bound, leaving no temporary file).
It fails on a corrupted file, a leak, a hang (every socket has a time-out), a left-over
.nm-upload-* temporary file, a crash, or a non-zero exit. Exit status: 0 passed, 1 failed,
77 nothing could run (no binary).

Known defects can be marked as expected failures (XFAIL_TEMP_ON_SIGTERM, XFAIL_MAX_CLIENTS) so
the script passes while one is being fixed; it reports "unexpected pass" once the fix is in. Both
marks are empty now: fork and prefork stop cleanly on SIGTERM, and prefork enforces --max-clients
across its workers (issue 16).
"""

import argparse
import ftplib
import hashlib
import io
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ALL_MODELS = ["iterative", "fork", "threads", "select", "poll", "epoll", "epoll-et",
              "thread-pool", "prefork", "reactors", "uring"]
USER, PASSWORD = "alice", "secret"
TIMEOUT = 15  # seconds, on every socket: nothing here waits forever
# Models that hold one worker per connection get enough workers for the concurrent clients.
MODEL_ARGS = {"thread-pool": ["--workers", "8", "--queue", "64"], "prefork": ["--workers", "8"]}
# One connection at a time: a slow client holds the server by design, so the slowloris check,
# which asks that others are served meanwhile, does not apply.
ONE_AT_A_TIME = {"iterative"}
XFAIL_TEMP_ON_SIGTERM: set[str] = set()
XFAIL_MAX_CLIENTS: set[str] = set()
FD_TOLERANCE = 6
PROC_TOLERANCE = 1


class Failure(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# /proc, read so that a process exiting meanwhile is never an error.

def children_of(pid):
    kids = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for t in tasks:
        try:
            with open(f"/proc/{pid}/task/{t}/children") as f:
                kids += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return kids


def tree(pid):
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += children_of(p)
    return found


def fd_count(pids):
    total = 0
    for p in pids:
        try:
            total += len(os.listdir(f"/proc/{p}/fd"))
        except OSError:
            pass
    return total


def rss_kib(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def is_zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def sanitized(pid):
    try:
        with open(f"/proc/{pid}/maps") as f:
            maps = f.read()
    except OSError:
        return False
    return any(lib in maps for lib in ("libasan", "libtsan", "libubsan"))


def snapshot(pid):
    pids = [p for p in tree(pid) if not is_zombie(p)]
    return {"fds": fd_count(pids), "procs": len(pids), "rss": rss_kib(pids)}


def steady_snapshot(pid, timeout=15):
    """A snapshot once processes and descriptors stop changing (prefork's workers start up)."""
    last = snapshot(pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = snapshot(pid)
        if now["procs"] == last["procs"] and now["fds"] == last["fds"]:
            return now
        last = now
    return last


def wait_until(predicate, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


# ---------------------------------------------------------------------------------------------
# The server

class Server:
    def __init__(self, binary, model, root, extra=()):
        self.model = model
        self.root = root
        self.log_path = os.path.join(os.path.dirname(root), f"server-{os.getpid()}-{id(self)}.log")
        self.log = open(self.log_path, "wb")
        args = [binary, "serve", "--service", "ftp", "--model", model, "--listen", "127.0.0.1:0",
                "--root", root, "--user", f"{USER}:{PASSWORD}", "--idle-timeout", "30",
                "--data-timeout", "5", "--log-level", "warn",
                # SIGTERM drains: 2 s bounds it, so the sigterm scenario still stops with
                # transfers in flight (the drain itself is tests/integration/drain_test.py's).
                "--drain-timeout", "2", *MODEL_ARGS.get(model, []), *extra]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log)
        ready, _, _ = select.select([self.proc.stdout], [], [], TIMEOUT)
        line = self.proc.stdout.readline().decode() if ready else ""
        m = re.search(r"listening on .*:(\d+)", line)
        if not m:
            self.kill()
            raise Failure(f"{model}: server did not start: {line!r} {self.log_text()[-2000:]}")
        self.port = int(m.group(1))
        self.pid = self.proc.pid

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.close()

    def close(self):
        if self.proc.stdout:
            self.proc.stdout.close()
        self.log.close()

    def terminate(self, timeout=20):
        """SIGTERM by pid; the exit status, or Failure past `timeout`."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Failure(f"{self.model}: no exit within {timeout} s of SIGTERM")
        self.close()
        return rc

    def ftp(self):
        f = ftplib.FTP()
        f.connect("127.0.0.1", self.port, timeout=TIMEOUT)
        f.login(USER, PASSWORD)
        return f

    def raw(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT)
        return s


def read_reply(sock, timeout=TIMEOUT):
    """One reply line (the first line of a reply is enough here), or '' on close."""
    sock.settimeout(timeout)
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace")


def temp_files(root):
    found = []
    for dirpath, _, files in os.walk(root):
        found += [os.path.join(dirpath, f) for f in files if f.startswith(".nm-upload-")]
    return found


def sha(data):
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------------------
# The checks

class Soak:
    def __init__(self, args, model, tmp):
        self.args = args
        self.model = model
        self.tmp = tmp
        self.root = os.path.join(tmp, "root")
        os.makedirs(self.root, exist_ok=True)
        self.notes = []
        self.xfails = []
        self.mark = time.monotonic()

    def note(self, text):
        now = time.monotonic()
        self.notes.append(f"{text} [{now - self.mark:.1f} s]")
        self.mark = now

    def check_alive(self, server, when):
        if not server.alive():
            raise Failure(f"server died {when} (exit {server.proc.returncode}): "
                          f"{server.log_text()[-2000:]}")

    def check_served(self, server, when):
        """A fresh client logs in and lists, within the socket time-out."""
        self.check_alive(server, when)
        try:
            with server.ftp() as f:
                f.nlst()
                f.voidcmd("NOOP")
        except (OSError, ftplib.Error, EOFError) as e:
            raise Failure(f"a client was not served {when}: {e!r}")

    def settled(self, server, base, when, rss_factor):
        """Descriptors and processes back to the baseline, RSS within a factor of it."""
        now = {}

        def back():
            now.update(snapshot(server.pid))
            return (now["fds"] <= base["fds"] + FD_TOLERANCE and
                    now["procs"] <= base["procs"] + PROC_TOLERANCE)

        if not wait_until(back, 10):
            raise Failure(f"leak {when}: fds {base['fds']} -> {now['fds']}, "
                          f"processes {base['procs']} -> {now['procs']}")
        limit = base["rss"] * rss_factor + 64 * 1024
        if sanitized(server.pid):
            # ASan's quarantine holds freed memory by design (256 MB): RSS says nothing there.
            pass
        elif now["rss"] > limit:
            raise Failure(f"memory {when}: RSS {base['rss']} KiB -> {now['rss']} KiB")
        self.note(f"{when}: fds {base['fds']}->{now['fds']} procs {base['procs']}->"
                  f"{now['procs']} rss {base['rss']}->{now['rss']} KiB")

    # -- load ------------------------------------------------------------------------------

    def load(self, server, seconds, clients):
        errors = []
        counts = {"stor": 0, "retr": 0, "list": 0, "dele": 0}
        lock = threading.Lock()
        deadline = time.monotonic() + seconds

        def client(n):
            rng = random.Random(n * 7919 + os.getpid())
            mine = {}  # name -> sha256 of what this client stored
            try:
                with server.ftp() as f:
                    while time.monotonic() < deadline:
                        op = rng.choice(["stor", "stor", "retr", "retr", "list", "dele"])
                        if op == "stor" or not mine:
                            name = f"c{n}-{rng.randrange(6)}.bin"
                            data = rng.randbytes(rng.choice([0, 1, 100, 4096, 65536, 300000]))
                            f.storbinary(f"STOR {name}", io.BytesIO(data))
                            mine[name] = sha(data)
                            op = "stor"
                        elif op == "retr":
                            name = rng.choice(sorted(mine))
                            buf = io.BytesIO()
                            f.retrbinary(f"RETR {name}", buf.write)
                            if sha(buf.getvalue()) != mine[name]:
                                raise Failure(f"RETR {name}: content differs from the upload")
                        elif op == "list":
                            names = set(f.nlst())
                            missing = set(mine) - names
                            if missing:
                                raise Failure(f"NLST lacks {sorted(missing)}")
                            if any(x.startswith(".nm-upload-") for x in names):
                                raise Failure("NLST shows a temporary upload")
                        else:
                            name = rng.choice(sorted(mine))
                            f.delete(name)
                            del mine[name]
                        with lock:
                            counts[op] += 1
            except Exception as e:  # noqa: BLE001 - every error of a client is a failure
                with lock:
                    errors.append(f"client {n}: {e!r}")
            # What the client left must be what it stored.
            for name, digest in mine.items():
                try:
                    with open(os.path.join(self.root, name), "rb") as fh:
                        if sha(fh.read()) != digest:
                            errors.append(f"{name}: file on disk differs from the upload")
                except OSError as e:
                    errors.append(f"{name}: {e}")

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(seconds + 4 * TIMEOUT)
            if t.is_alive():
                errors.append("a client hung")
        if errors:
            raise Failure("load: " + "; ".join(errors[:5]))
        self.note("load: " + " ".join(f"{k}={v}" for k, v in counts.items()))

    # -- abuse -----------------------------------------------------------------------------

    def slowloris(self, server):
        if self.model in ONE_AT_A_TIME:
            self.note("slowloris: skipped (one connection at a time by design)")
            return
        socks = [server.raw() for _ in range(3)]
        try:
            for s in socks:
                read_reply(s)
            start = time.monotonic()
            stop = threading.Event()

            def drip():
                payload = b"NOOP\r\n"
                i = 0
                while not stop.is_set() and time.monotonic() - start < 20:
                    for s in socks:
                        try:
                            s.send(payload[i % len(payload):i % len(payload) + 1])
                        except OSError:
                            pass
                    i += 1
                    stop.wait(1.0)

            t = threading.Thread(target=drip)
            t.start()
            try:
                time.sleep(1.5)
                self.check_served(server, "while 3 slowloris connections drip")
            finally:
                stop.set()
                t.join()
            self.note(f"slowloris: others served in {time.monotonic() - start:.1f} s")
        finally:
            for s in socks:
                s.close()

    def garbage(self, server):
        rng = random.Random(1)
        for n in range(6):
            s = server.raw()
            try:
                read_reply(s)
                blob = rng.randbytes(rng.choice([10, 1000, 20000]))
                if n % 2:
                    blob = blob.replace(b"\r", b"").replace(b"\n", b"") + b"\r\n"
                try:
                    s.sendall(blob)
                    s.settimeout(0.3)
                    while s.recv(65536):
                        pass
                except OSError:
                    pass  # the server may close on a flood: a clean close is a good answer
            finally:
                s.close()
        self.check_served(server, "after garbage bytes")
        self.note("garbage: served after 6 connections of random bytes")

    def passive_abuse(self, server):
        with server.ftp() as f:
            for _ in range(100):
                f.sendcmd("PASV")
            f.sendcmd("EPSV")
        for _ in range(10):
            with server.ftp() as f:
                f.sendcmd("PASV")
        self.check_served(server, "after PASV abuse")
        self.note("passive: 100 PASV on one connection, 10 connections left with a listener")

    def churn(self, server, count):
        for n in range(count):
            s = server.raw()
            if n % 3 == 0:
                read_reply(s)
            if n % 5 == 0:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
        self.check_served(server, "after connection churn")
        self.note(f"churn: {count} connect/close")

    def max_clients(self, binary):
        if self.model in ONE_AT_A_TIME:
            self.note("max-clients: skipped (one connection at a time: the rest wait in the backlog)")
            return
        root = os.path.join(self.tmp, "maxroot")
        os.makedirs(root, exist_ok=True)
        server = Server(binary, self.model, root, ["--max-clients", "2"])
        held = []
        try:
            for _ in range(2):
                f = server.ftp()
                held.append(f)
            s = server.raw()
            reply = read_reply(s, timeout=10)
            s.close()
            if not reply.startswith("421"):
                if self.model in XFAIL_MAX_CLIENTS:
                    self.xfails.append("expected failure (known defect: prefork does not enforce "
                                       f"--max-clients across workers): got {reply.strip()!r}")
                    return
                raise Failure(f"--max-clients 2: a third connection got {reply!r}, not 421")
            if self.model in XFAIL_MAX_CLIENTS:
                self.xfails.append("unexpected pass: --max-clients enforced; remove "
                                   f"{self.model} from XFAIL_MAX_CLIENTS")
            held.pop().quit()

            def admitted():
                try:
                    with server.ftp() as f:
                        f.voidcmd("NOOP")
                    return True
                except (OSError, ftplib.Error, EOFError):
                    return False

            if not wait_until(admitted, 10, 0.2):
                raise Failure("--max-clients 2: no connection admitted after one closed")
            self.note("max-clients: third refused with 421, admitted once a slot freed")
        finally:
            for f in held:
                f.close()
            rc = server.terminate()
            if rc != 0:
                raise Failure(f"--max-clients server exited {rc}")

    def full_disk(self, binary):
        if os.geteuid() != 0:
            self.note("full disk: skipped (needs root to mount a tmpfs)")
            return
        mnt = os.path.join(self.tmp, "small")
        os.makedirs(mnt, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.note(f"full disk: skipped (mount failed: {r.stderr.strip()})")
            return
        try:
            server = Server(binary, self.model, mnt)
            try:
                first = random.Random(2).randbytes(1024 * 1024)
                with server.ftp() as f:
                    f.storbinary("STOR keep.bin", io.BytesIO(first))
                    conn = f.transfercmd("STOR keep.bin")
                    try:
                        conn.sendall(b"z" * (6 * 1024 * 1024))
                    except OSError:
                        pass  # the server may drop the data connection once the disk is full
                    conn.close()
                    try:
                        f.voidresp()
                        raise Failure("an upload larger than the disk succeeded")
                    except ftplib.error_temp as e:
                        if not str(e).startswith("452"):
                            raise Failure(f"upload to a full disk got {e}, not 452")
                    except (ftplib.error_perm, ftplib.error_reply) as e:
                        raise Failure(f"upload to a full disk got {e}, not 452")
                with open(os.path.join(mnt, "keep.bin"), "rb") as fh:
                    if fh.read() != first:
                        raise Failure("the previous file changed after a failed upload")
                left = temp_files(mnt)
                if left:
                    raise Failure(f"temporary files after a failed upload: {left}")
                self.check_served(server, "after a full disk")
            finally:
                rc = server.terminate()
                if rc != 0:
                    raise Failure(f"full-disk server exited {rc}")
            self.note("full disk: 452, previous file intact, no temporary file")
        finally:
            subprocess.run(["umount", mnt], capture_output=True)

    def sigterm(self, server):
        """Uploads and a download in flight, then SIGTERM: exit 0, no temporary file."""
        big = random.Random(3).randbytes(8 * 1024 * 1024)
        with open(os.path.join(self.root, "big.bin"), "wb") as fh:
            fh.write(big)
        socks = []
        started = threading.Barrier(4, timeout=TIMEOUT)
        stop = threading.Event()
        errors = []

        def upload(n):
            try:
                f = server.ftp()
                socks.append(f)
                conn = f.transfercmd(f"STOR inflight{n}.bin")
                socks.append(conn)
                conn.sendall(b"u" * 100000)
                started.wait()
                while not stop.is_set():  # keeps sending until the server goes away
                    conn.sendall(b"u" * 10000)
                    time.sleep(0.05)
            except (OSError, ftplib.Error, EOFError, threading.BrokenBarrierError):
                pass
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

        def download():
            try:
                f = server.ftp()
                socks.append(f)
                conn = f.transfercmd("RETR big.bin")
                socks.append(conn)
                conn.recv(1000)
                started.wait()
                while not stop.is_set() and conn.recv(1000):
                    time.sleep(0.05)
            except (OSError, ftplib.Error, EOFError, threading.BrokenBarrierError):
                pass

        threads = [threading.Thread(target=upload, args=(n,)) for n in range(3)]
        threads.append(threading.Thread(target=download))
        for t in threads:
            t.start()
        time.sleep(1.0)
        pids = tree(server.pid)
        t0 = time.monotonic()
        # A bound, not a target: iterative finishes the session in progress (stalled transfers
        # end by --data-timeout), so it takes ~15 s here; the others stop at once.
        rc = server.terminate(timeout=45)
        stop_seconds = time.monotonic() - t0
        # No process of the server outlives it (a fork model reaps its children).
        if not wait_until(lambda: all(is_zombie(p) for p in pids), 10):
            raise Failure(f"processes {[p for p in pids if not is_zombie(p)]} outlive the server")
        stop.set()
        for t in threads:
            t.join(30)
        for s in socks:
            try:
                s.close()
            except OSError:
                pass
        if rc != 0:
            raise Failure(f"exit status {rc} after SIGTERM with transfers in flight "
                          f"{server.log_text()[-1500:]}")
        # An upload cut by the shutdown is dropped; one the server saw end (the client closed
        # after the server stopped reading) may stand, but only with the bytes that were sent.
        for name in os.listdir(self.root):
            if name.startswith("inflight"):
                with open(os.path.join(self.root, name), "rb") as fh:
                    if fh.read().strip(b"u"):
                        raise Failure(f"{name}: corrupted upload after SIGTERM")
        left = temp_files(self.root)
        if self.model in XFAIL_TEMP_ON_SIGTERM:
            if left:
                self.xfails.append(f"expected failure (known defect: {self.model} leaves "
                                   f"temporary files on SIGTERM): {len(left)} left")
                for p in left:
                    os.unlink(p)
            else:
                # The defect depends on timing: a clean run alone does not prove it fixed.
                self.xfails.append("unexpected pass: no temporary file left on SIGTERM this time; "
                                   f"remove {self.model} from XFAIL_TEMP_ON_SIGTERM once fixed")
        elif left:
            raise Failure(f"temporary files left after SIGTERM: {left}")
        self.note(f"sigterm: exit 0 in {stop_seconds:.1f} s with 4 transfers in flight")

    # -- the whole run ---------------------------------------------------------------------

    def run(self):
        a = self.args
        seconds = a.seconds if a.seconds else (5 if a.quick else 60)
        clients = 4 if a.quick else 8
        server = Server(a.bin, self.model, self.root)
        try:
            self.check_served(server, "at start")  # warm-up: lazy allocations settle
            base = steady_snapshot(server.pid)
            self.load(server, seconds, clients)
            self.check_alive(server, "after the load")
            self.settled(server, base, "after load", 1.5 if a.quick else 1.3)
            self.slowloris(server)
            self.garbage(server)
            self.passive_abuse(server)
            self.churn(server, 200 if a.quick else 1000)
            self.settled(server, base, "after abuse", 2.0)
            self.sigterm(server)
        finally:
            if server.alive():
                server.kill()
        self.max_clients(a.bin)
        self.full_disk(a.bin)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", default=os.environ.get("NETMODELS_BIN", "build/netmodels"))
    p.add_argument("--quick", action="store_true", help="a few seconds of load per model")
    p.add_argument("--models", action="append",
                   help="comma-separated models (repeatable); default all")
    p.add_argument("--seconds", type=float, default=0, help="seconds of load per model")
    a = p.parse_args()
    if not os.access(a.bin, os.X_OK):
        print(f"soak: SKIP: no netmodels binary at {a.bin}")
        return 77
    models = [m for arg in (a.models or [",".join(ALL_MODELS)]) for m in arg.split(",") if m]
    failed = []
    for model in models:
        tmp = tempfile.mkdtemp(prefix=f"nm-soak-{model}-")
        t0 = time.monotonic()
        soak = Soak(a, model, tmp)
        try:
            soak.run()
            status = "ok"
        except Failure as e:
            status = f"FAIL: {e}"
            failed.append(model)
        except Exception as e:  # noqa: BLE001 - a bug here is reported, not a traceback storm
            status = f"FAIL (script error): {e!r}"
            failed.append(model)
        finally:
            subprocess.run(["umount", os.path.join(tmp, "small")], capture_output=True)
            shutil.rmtree(tmp, ignore_errors=True)
        print(f"{model}: {status} ({time.monotonic() - t0:.1f} s)")
        for n in soak.notes:
            print(f"  {n}")
        for x in soak.xfails:
            print(f"  {x}")
        sys.stdout.flush()
    passed = len(models) - len(failed)
    print(f"{passed} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
