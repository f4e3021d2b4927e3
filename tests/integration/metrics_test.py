#!/usr/bin/env python3
"""--metrics-listen on one model: what a Prometheus scrape shows after real FTP traffic.

A login that works and one that fails, a RETR, a STOR and a LIST, then GET /metrics: every counter moved by exactly what was done (on fork and prefork
too, whose sessions run in child processes), the text passes `promtool check metrics` where
Debian's prometheus package is installed, and the endpoint answers 404 elsewhere.

Environment: NETMODELS_BIN, NETMODELS_MODEL, as for ftp_test.py (whose Server this reuses).
"""
import ftplib
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ftp_test import MODEL, PASSWORD, TIMEOUT, USER, Server, run_tests  # noqa: E402


class MetricsServer(Server):
    def __init__(self, extra=()):
        super().__init__(extra=["--metrics-listen", "127.0.0.1:0", *extra])
        line = self.proc.stdout.readline().decode()
        m = re.search(r"metrics on .*:(\d+)", line)
        if not m:
            self.stop(check=False)
            raise AssertionError(f"no metrics line: {line!r}")
        self.metrics_port = int(m.group(1))

    def scrape(self, path="/metrics"):
        url = f"http://127.0.0.1:{self.metrics_port}{path}"
        with urllib.request.urlopen(url, timeout=TIMEOUT) as r:
            return r.headers.get("Content-Type"), r.read().decode()


def sample(text, name, labels=""):
    m = re.search("^" + re.escape(name + (("{" + labels + "}") if labels else "")) + r" (\d+)$",
                  text, re.M)
    return int(m.group(1)) if m else None


class MetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = MetricsServer()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop(check=True)

    def until(self, name, labels, want, server=None):
        """Counts from a child process (fork) land when its session ends: wait a little."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            _, text = (server or self.server).scrape()
            got = sample(text, name, labels)
            if got == want or time.monotonic() > deadline:
                return got, text
            time.sleep(0.05)

    def test_traffic_moves_the_counters(self):
        data = os.urandom(300_000)
        with open(os.path.join(self.server.root, "down.bin"), "wb") as f:
            f.write(data)
        bad = ftplib.FTP()
        bad.connect("127.0.0.1", self.server.port, timeout=TIMEOUT)
        with self.assertRaises(ftplib.error_perm):
            bad.login(USER, "wrong")
        bad.close()
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", self.server.port, timeout=TIMEOUT)
        ftp.login(USER, PASSWORD)
        got = io.BytesIO()
        ftp.retrbinary("RETR down.bin", got.write)
        self.assertEqual(got.getvalue(), data)
        ftp.storbinary("STOR up.bin", io.BytesIO(b"u" * 1000))
        ftp.retrlines("LIST", lambda line: None)
        ftp.quit()

        n, text = self.until("netmodels_transfers_total", 'command="LIST",result="ok"', 1)
        self.assertEqual(n, 1, text)
        self.assertEqual(sample(text, "netmodels_logins_total", 'result="ok"'), 1)
        # The greeting check at start-up logged in nobody; the wrong password is one failure.
        self.assertEqual(sample(text, "netmodels_logins_total", 'result="failed"'), 1)
        self.assertEqual(sample(text, "netmodels_transfers_total", 'command="RETR",result="ok"'), 1)
        self.assertEqual(sample(text, "netmodels_transfers_total", 'command="STOR",result="ok"'), 1)
        self.assertGreaterEqual(sample(text, "netmodels_transfer_bytes_total", 'direction="sent"'),
                                len(data))
        self.assertEqual(sample(text, "netmodels_transfer_bytes_total", 'direction="received"'),
                         1000)
        # Two sessions of ours and the start-up check, all ended now.
        self.assertGreaterEqual(sample(text, "netmodels_connections_accepted_total"), 3)
        n, text = self.until("netmodels_connections_active", "", 0)
        self.assertEqual(n, 0, text)
        n, text = self.until("netmodels_passive_listeners_open", "", 0)
        self.assertEqual(n, 0, text)
        self.assertRegex(text, r'netmodels_build_info\{version="[^"]+",model="%s",service="ftp"'
                         % re.escape(MODEL))

    def test_a_refusal_is_counted_by_reason(self):
        server = MetricsServer(extra=["--max-clients", "1"])
        self.addCleanup(server.stop, check=True)
        # The start-up check's session may still be ending (a blocking model frees its place
        # when the thread or child does): the first session is the one that gets in.
        deadline = time.monotonic() + TIMEOUT
        while True:
            first = ftplib.FTP()
            try:
                first.connect("127.0.0.1", server.port, timeout=TIMEOUT)
                break
            except ftplib.error_temp:
                first.close()
                self.assertLess(time.monotonic(), deadline, "the first session never got in")
                time.sleep(0.05)
        self.addCleanup(first.close)
        _, text = server.scrape()
        refused_before = sample(text, "netmodels_connections_refused_total",
                                'reason="max-clients"')
        n = None
        if MODEL != "iterative":  # iterative holds the second in its backlog: nothing to refuse
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline:
                second = ftplib.FTP()
                try:
                    second.connect("127.0.0.1", server.port, timeout=TIMEOUT)
                    second.quit()
                except (ftplib.error_temp, EOFError, OSError):
                    pass
                finally:
                    second.close()
                _, text = server.scrape()
                n = sample(text, "netmodels_connections_refused_total", 'reason="max-clients"')
                if n > refused_before:
                    break
            self.assertGreater(n, refused_before, text)

    def test_a_data_connection_from_another_host_is_refused_and_counted(self):
        """RFC 2577's rule: a passive data connection from a host other than the client's is
        closed, and the client's own connection still gets the file. A server of its own: the
        shared one's counts are test_traffic_moves_the_counters's."""
        server = MetricsServer()
        self.addCleanup(server.stop, check=True)
        with open(os.path.join(server.root, "mine.txt"), "wb") as f:
            f.write(b"for the client only\n")
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", server.port, timeout=TIMEOUT)
        self.addCleanup(ftp.close)
        ftp.login(USER, PASSWORD)
        _, text = server.scrape()
        before = sample(text, "netmodels_data_connections_refused_total", 'reason="foreign-peer"')
        self.assertIsNotNone(before, text)
        ftp.voidcmd("TYPE I")
        host, port = ftplib.parse227(ftp.sendcmd("PASV"))
        intruder = socket.create_connection((host, port), timeout=TIMEOUT,
                                            source_address=("127.0.0.2", 0))
        self.addCleanup(intruder.close)
        ftp.putcmd("RETR mine.txt")
        with socket.create_connection((host, port), timeout=TIMEOUT) as data:
            self.assertTrue(ftp.getresp().startswith("150"))
            body = b""
            while chunk := data.recv(4096):
                body += chunk
        self.assertEqual(body, b"for the client only\n")
        self.assertTrue(ftp.voidresp().startswith("226"))
        try:
            self.assertEqual(intruder.recv(4096), b"")  # closed with nothing sent
        except ConnectionResetError:
            pass
        n, text = self.until("netmodels_data_connections_refused_total", 'reason="foreign-peer"',
                             before + 1, server)
        self.assertEqual(n, before + 1, text)
        ftp.quit()

    def test_the_text_passes_promtool_and_other_paths_are_404(self):
        content_type, text = self.server.scrape()
        self.assertTrue(content_type.startswith("text/plain; version=0.0.4"), content_type)
        promtool = shutil.which("promtool")
        if promtool:
            check = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                                   capture_output=True, timeout=60)
            self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        with self.assertRaises(urllib.error.HTTPError) as e:
            self.server.scrape("/")
        self.assertEqual(e.exception.code, 404)


def main():
    return run_tests(MetricsServer)


if __name__ == "__main__":
    sys.exit(main())
