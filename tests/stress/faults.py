#!/usr/bin/env python3
"""The FTP server under injected faults (libfiu's fiu-run), model by model, over loopback.

    python3 tests/stress/faults.py --bin build/netmodels [--models epoll,fork] [--seconds N]

The server runs as `fiu-run -x -c 'enable_random name=posix/io/...,probability=P' netmodels ...`:
libfiu's preload makes a random share of the libc calls recv, send, accept, open and pread fail
with a hard error, and of preads come up short (FAILPOINTS says which and why not read/write;
faults from the start: a failed start-up is retried). FTP clients upload, download and list
meanwhile. What must hold:
  - the server stays up, or exits cleanly (status 0) - never a crash or a signal;
  - every client gets its replies or a clean close: no operation hangs past the socket time-out;
  - no stored file is half-written: every file in the root is absent or byte-identical to one
    upload of that name (each upload sends different bytes), and no .nm-upload-* file is left
    once the server has stopped;
  - it stops within a bound on SIGTERM.
uring is skipped: io_uring's operations are submitted to the kernel through the ring, not made as
libc calls, so libfiu's preload cannot fail them (the test would test nothing). Sanitizer builds
are skipped too: libfiu's preload and the sanitizer runtimes both interpose libc. Exits 77 when
fiu-run is missing (Debian: fiu-utils), 0 when every model passed, 1 otherwise.
"""

import argparse
import ftplib
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

MODELS = ["iterative", "fork", "threads", "select", "poll", "epoll", "epoll-et", "thread-pool",
          "prefork", "reactors"]
NOT_LIBC = {"uring": "io_uring operations are not libc calls: libfiu's preload cannot fail them"}
USER, PASSWORD = "alice", "secret"
TIMEOUT = 10  # seconds on every client socket: past it, an operation has hung
PROBABILITY = 0.05
# Failure points and the errno each fails with. libfiu picks a random errno from each call's
# documented list unless told one (failinfo); for recv() that list holds EAGAIN and EINTR, which
# a readiness loop rightly takes as "no data now": an injected EAGAIN on a socket that holds data
# is a lie no kernel tells. So hard errors: ECONNRESET on sockets, ECONNABORTED (a peer gone
# before accept) for accept, EIO for opens and file reads, and short preads ("reduce").
# Left out on purpose: read() and write(). In this server they are the internal wake-up channels
# (the work pool's eventfd, the self-pipes of signals and child exits), whose kernel calls cannot
# fail as injected; failing them loses wake-ups (a WorkRequest's answer never reaches the loop:
# poll, epoll-et and reactors then hang a LIST), which tests libfiu, not the server. Data moves
# by recv/send and by splice/sendfile (the latter are not libc calls libfiu wraps).
FAILPOINTS = [("posix/io/net/recv", 104), ("posix/io/net/send", 104),
              ("posix/io/net/accept", 103), ("posix/io/oc/open", 5), ("posix/io/rw/pread", 5),
              ("posix/io/rw/pread/reduce", 0)]
MODEL_ARGS = {"thread-pool": ["--workers", "8", "--queue", "64"], "prefork": ["--workers", "8"]}


class Failure(Exception):
    pass


def sanitized(binary):
    try:
        out = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return any(lib in out for lib in ("libasan", "libtsan", "libubsan"))


class FaultyServer:
    def __init__(self, fiu_run, binary, model, root, log_path):
        args = [fiu_run, "-x"]
        for point, errno in FAILPOINTS:
            args += ["-c", f"enable_random name={point},probability={PROBABILITY},failinfo={errno}"]
        args += [binary, "serve", "--service", "ftp", "--model", model, "--listen",
                 "127.0.0.1:0", "--root", root, "--user", f"{USER}:{PASSWORD}",
                 "--idle-timeout", "20", "--data-timeout", "5", "--log-level", "warn",
                 # SIGTERM drains; 2 s bounds it when a transfer is in flight at the end.
                 "--drain-timeout", "2", *MODEL_ARGS.get(model, [])]
        # The faults hit start-up too (the "listening on" line is a write): try a few times.
        for attempt in range(8):
            self.log = open(log_path, "ab")
            # -f "": no remote-control pipes left in /tmp.
            self.proc = subprocess.Popen(args[:2] + ["-f", ""] + args[2:],
                                         stdout=subprocess.PIPE, stderr=self.log)
            ready, _, _ = select.select([self.proc.stdout], [], [], 15)
            line = self.proc.stdout.readline().decode(errors="replace") if ready else ""
            m = re.search(r"listening on .*:(\d+)", line)
            if m and self.proc.poll() is None:
                self.port = int(m.group(1))
                self.attempts = attempt + 1
                return
            self.stop_hard()
        raise Failure(f"{model}: no start in 8 tries under faults")

    def stop_hard(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.log.close()

    def status(self):
        return self.proc.poll()

    def terminate(self, timeout=20):
        if self.proc.poll() is not None:
            rc = self.proc.returncode
        else:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.stop_hard()
                raise Failure(f"no exit within {timeout} s of SIGTERM")
        self.proc.stdout.close()
        self.log.close()
        return rc


def run_model(fiu_run, binary, model, seconds, clients):
    tmp = tempfile.mkdtemp(prefix=f"nm-faults-{model}-")
    root = os.path.join(tmp, "root")
    os.mkdir(root)
    log_path = os.path.join(tmp, "server.log")
    try:
        server = FaultyServer(fiu_run, binary, model, root, log_path)
        uploads = {}  # name -> list of payloads tried
        lock = threading.Lock()
        hangs, stats = [], {"ok": 0, "error": 0, "stored": 0, "retrieved": 0}
        deadline = time.monotonic() + seconds

        def client(n):
            rng = random.Random(n + 1000 * os.getpid())
            while time.monotonic() < deadline:
                op = "connect"
                try:
                    f = ftplib.FTP()
                    f.connect("127.0.0.1", server.port, timeout=TIMEOUT)
                    op = "login"
                    f.login(USER, PASSWORD)
                    for _ in range(8):
                        if time.monotonic() >= deadline:
                            break
                        name = f"f{n}-{rng.randrange(3)}.bin"
                        choice = rng.random()
                        if choice < 0.5:
                            op = "STOR"
                            data = rng.randbytes(rng.choice([1, 5000, 100000, 400000]))
                            with lock:
                                uploads.setdefault(name, []).append(data)
                            f.storbinary(f"STOR {name}", io.BytesIO(data))
                            with lock:
                                stats["stored"] += 1
                        elif choice < 0.8:
                            op = "RETR"
                            buf = io.BytesIO()
                            f.retrbinary(f"RETR {name}", buf.write)
                            with lock:
                                if buf.getvalue() not in uploads.get(name, []):
                                    raise Failure(f"RETR {name} after 226: bytes of no upload")
                                stats["retrieved"] += 1
                        else:
                            op = "LIST"
                            f.nlst()
                    op = "QUIT"
                    f.quit()
                    with lock:
                        stats["ok"] += 1
                except socket.timeout:
                    with lock:
                        hangs.append(f"client {n}: {op} hung past {TIMEOUT} s")
                    return
                except (OSError, EOFError, ftplib.Error):
                    # An injected fault: an error reply or a closed connection is a fine answer.
                    with lock:
                        stats["error"] += 1
                finally:
                    try:
                        f.close()
                    except Exception:  # noqa: BLE001
                        pass

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(seconds + 10 * TIMEOUT)
        if any(t.is_alive() for t in threads):
            hangs.append("a client thread never finished")
        died = server.status()
        rc = server.terminate()
        problems = list(hangs)
        if died is not None and died != 0:
            problems.append(f"the server exited with {died} during the run")
        if died is None and rc != 0:
            problems.append(f"exit status {rc} on SIGTERM")
        for dirpath, _, files in os.walk(root):
            for fname in files:
                path = os.path.join(dirpath, fname)
                if fname.startswith(".nm-upload-"):
                    problems.append(f"temporary file {fname} left")
                    continue
                with open(path, "rb") as fh:
                    content = fh.read()
                if content not in uploads.get(fname, []):
                    problems.append(f"{fname}: {len(content)} bytes, identical to no upload "
                                    "(half-written?)")
        summary = (f"sessions ok={stats['ok']} failed={stats['error']} stored={stats['stored']} "
                   f"retrieved={stats['retrieved']} start-tries={server.attempts} "
                   f"exit={'rc %s' % died if died is not None else 'SIGTERM -> %s' % rc}")
        if problems:
            with open(log_path, "rb") as fh:
                tail = fh.read()[-1500:].decode(errors="replace")
            raise Failure("; ".join(problems[:6]) + f" ({summary})\n{tail}")
        return summary
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", default=os.environ.get("NETMODELS_BIN", "build/netmodels"))
    p.add_argument("--models", action="append", help="comma-separated models (repeatable)")
    p.add_argument("--seconds", type=float, default=6, help="seconds of clients per model")
    p.add_argument("--clients", type=int, default=4)
    a = p.parse_args()
    fiu_run = shutil.which("fiu-run")
    if not fiu_run:
        print("faults: SKIP: fiu-run not found (Debian package fiu-utils)")
        return 77
    if not os.access(a.bin, os.X_OK):
        print(f"faults: SKIP: no netmodels binary at {a.bin}")
        return 77
    if sanitized(a.bin):
        print("faults: SKIP: a sanitizer build (libfiu's preload and the sanitizer runtime both "
              "interpose libc); the plain build runs it")
        return 77
    models = [m for arg in (a.models or [",".join(MODELS)]) for m in arg.split(",") if m]
    failed, ran = [], 0
    for model in models:
        if model in NOT_LIBC:
            print(f"{model}: skipped ({NOT_LIBC[model]})")
            continue
        ran += 1
        t0 = time.monotonic()
        try:
            summary = run_model(fiu_run, a.bin, model, a.seconds, a.clients)
            print(f"{model}: ok ({time.monotonic() - t0:.1f} s) {summary}")
        except Failure as e:
            failed.append(model)
            print(f"{model}: FAIL ({time.monotonic() - t0:.1f} s): {e}")
        sys.stdout.flush()
    print(f"{ran - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
