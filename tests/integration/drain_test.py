#!/usr/bin/env python3
"""Graceful drain on SIGTERM (--drain-timeout), on one model.

A RETR is kept running by a reader that reads slowly while the server gets SIGTERM: the listener
must refuse new connects at once, an idle second session gets 421, the RETR completes byte for
byte with its 226 (then 421), and the server exits 0. A second SIGTERM cuts the drain short, and
so does --drain-timeout with a stalled transfer. On thread-pool, a connection accepted but still
queued for a worker hears the same 421 rather than a silent close. Each case is a few seconds at most.

Environment: NETMODELS_BIN, NETMODELS_MODEL. Exits 77 (ctest: skipped) when the model cannot
run here (io_uring disabled).
"""

import ftplib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

BIN = os.environ.get("NETMODELS_BIN", "netmodels")
MODEL = os.environ.get("NETMODELS_MODEL", "epoll")
TIMEOUT = 10
SKIP = 77
USER, PASSWORD = "alice", "secret"
# Bigger than every socket buffer between the server and a reader that reads slowly (tcp_wmem's
# 4 MiB at most plus a small receive buffer): the server is still sending when SIGTERM comes.
SIZE = 12 * 1024 * 1024
# Under a sanitizer (its runtime mapped into the server) everything is slower: the bounds on time
# grow by this much. Set by the first server started.
SLACK = 1.0


class Unavailable(Exception):
    pass


class Server:
    """`netmodels serve --service ftp` on a fresh root holding big.bin; stopped by pid."""

    data = os.urandom(SIZE)

    def __init__(self, *extra):
        self.tmp = tempfile.mkdtemp(prefix="nm-drain-it-")
        self.root = os.path.join(self.tmp, "root")
        os.mkdir(self.root)
        with open(os.path.join(self.root, "big.bin"), "wb") as f:
            f.write(self.data)
        self.stderr_path = os.path.join(self.tmp, "stderr.log")
        self.stderr = open(self.stderr_path, "wb")
        args = [BIN, "serve", "--service", "ftp", "--model", MODEL, "--listen", "127.0.0.1:0",
                "--root", self.root, "--user", f"{USER}:{PASSWORD}", "--workers", "2", *extra]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.stderr)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("listening on "):
            self.proc.wait(timeout=TIMEOUT)
            if "not available" in self.log():
                raise Unavailable(self.log())
            raise RuntimeError(f"server did not start: {line!r} {self.log()}")
        self.port = int(line.rsplit(":", 1)[1])
        global SLACK
        try:
            with open(f"/proc/{self.proc.pid}/maps") as f:
                maps = f.read()
            if any(lib in maps for lib in ("libasan", "libtsan", "libubsan")):
                SLACK = 3.0
        except OSError:
            pass

    def log(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def signal(self):
        self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout):
        """The exit status and how long it took, or an AssertionError past `timeout`."""
        start = time.monotonic()
        try:
            code = self.proc.wait(timeout=timeout * SLACK)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"no exit within {timeout * SLACK} s\n{self.log()[-3000:]}")
        return code, time.monotonic() - start

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.stderr.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def login(port):
    ftp = ftplib.FTP(timeout=TIMEOUT)
    ftp.connect("127.0.0.1", port)
    ftp.login(USER, PASSWORD)
    ftp.voidcmd("TYPE I")
    return ftp


def start_retr(ftp):
    """RETR big.bin into a data socket with a small receive buffer, so the reader sets the pace."""
    host, port = ftplib.parse227(ftp.sendcmd("PASV"))
    data = socket.socket()
    data.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
    data.settimeout(TIMEOUT)
    data.connect((host, port))
    reply = ftp.sendcmd("RETR big.bin")
    assert reply.startswith("150"), reply
    return data


def refused(port):
    """True once a connect is refused; a connect reset while the listener shuts down is not yet."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except ConnectionRefusedError:
        return True
    except ConnectionResetError:
        return False


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout * SLACK
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


class DrainTest(unittest.TestCase):
    def start(self, *extra):
        try:
            srv = Server(*extra)
        except Unavailable as e:
            self.skipTest(str(e).strip().splitlines()[-1])
        self.addCleanup(srv.close)
        return srv

    def test_sigterm_lets_the_transfer_finish_and_closes_idle_sessions(self):
        srv = self.start("--drain-timeout", "20")
        ftp = login(srv.port)
        # iterative serves one connection at a time: no idle session beside the transfer.
        idle = None if MODEL == "iterative" else login(srv.port)
        data = start_retr(ftp)
        got = bytearray(data.recv(256 * 1024))
        srv.signal()
        t0 = time.monotonic()
        # The listener refuses new clients right away (the balancer's check fails)...
        self.assertTrue(wait_for(lambda: refused(srv.port), 1.0), "the listener still accepts")
        refused_after = time.monotonic() - t0
        # ...the idle session hears 421 and is closed...
        if idle is not None:
            self.assertTrue(idle.getline().startswith("421"))
            self.assertEqual(idle.sock.recv(100), b"")
            idle.close()
        # ...while the transfer, still running, goes on to the last byte.
        self.assertIsNone(srv.proc.poll(), "the server left before the transfer ended")
        while True:
            chunk = data.recv(1 << 20)
            if not chunk:
                break
            got += chunk
        data.close()
        self.assertEqual(len(got), SIZE)
        self.assertEqual(hashlib.sha256(got).digest(), hashlib.sha256(Server.data).digest())
        self.assertTrue(ftp.getline().startswith("226"))
        self.assertTrue(ftp.getline().startswith("421"))
        ftp.close()
        code, took = srv.wait(3)
        self.assertEqual(code, 0, srv.log()[-3000:])
        self.assertLess(refused_after, 1.0 * SLACK)
        self.assertIn("event=drain ", srv.log())

    def test_a_connection_still_queued_hears_421(self):
        if MODEL != "thread-pool":
            self.skipTest("only thread-pool queues accepted connections before serving them")
        srv = self.start("--drain-timeout", "5", "--max-workers", "1")
        busy = login(srv.port)  # holds the only worker
        queued = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT)
        queued.settimeout(0.3)
        with self.assertRaises(socket.timeout):  # accepted, but no worker greets it
            queued.recv(100)
        queued.settimeout(TIMEOUT)
        srv.signal()
        self.assertTrue(busy.getline().startswith("421"))
        got = b""
        while chunk := queued.recv(100):
            got += chunk
        self.assertEqual(got, b"421 Server shutting down; closing control connection.\r\n")
        queued.close()
        busy.close()
        code, _ = srv.wait(3)
        self.assertEqual(code, 0, srv.log()[-3000:])

    def test_a_second_sigterm_cuts_the_drain_short(self):
        srv = self.start("--drain-timeout", "20")
        ftp = login(srv.port)
        data = start_retr(ftp)
        data.recv(64 * 1024)
        srv.signal()
        self.assertTrue(wait_for(lambda: refused(srv.port), 1.0))
        srv.signal()
        code, took = srv.wait(3)
        self.assertEqual(code, 0, srv.log()[-3000:])
        # The transfer was cut, not finished.
        received = 0
        try:
            while chunk := data.recv(1 << 20):
                received += len(chunk)
        except OSError:
            pass
        self.assertLess(received, SIZE)
        data.close()
        ftp.close()

    def test_the_drain_timeout_ends_a_stalled_transfer(self):
        srv = self.start("--drain-timeout", "1")
        ftp = login(srv.port)
        data = start_retr(ftp)  # never read: the transfer stalls
        time.sleep(0.2)
        start = time.monotonic()
        srv.signal()
        code, _ = srv.wait(4)
        took = time.monotonic() - start
        self.assertEqual(code, 0, srv.log()[-3000:])
        self.assertGreater(took, 0.8)
        self.assertLess(took, 3.0 * SLACK)
        data.close()
        ftp.close()


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    if result.skipped and not result.failures and not result.errors and \
            len(result.skipped) == result.testsRun:
        sys.exit(SKIP)
    sys.exit(0 if result.wasSuccessful() else 1)
