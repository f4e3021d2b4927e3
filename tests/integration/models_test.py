"""The concurrency models of issue 2, each serving `ack` and `echo`, as a client sees them.

Run with NETMODELS_BIN and NETMODELS_MODEL set (ctest does, one case per model).
"""

import hashlib
import os
import resource
import socket
import struct
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from netmodels_server import (Server, cpu_seconds, descendants, state, tree_rss_kib,  # noqa: E402
                              wait_until)

MODEL = os.environ.get("NETMODELS_MODEL", "epoll")
ONE_AT_A_TIME = MODEL in ("iterative",)
# The pooled models serve as many at once as they have workers; the tests want 50.
MODEL_ARGS = {"thread-pool": ["--workers", "8", "--queue", "64"], "prefork": ["--workers", "8"]}
# Server memory growth allowed while a client floods it without reading.
RSS_GROWTH_LIMIT_KIB = 32 * 1024


def recv_exactly(sock, n):
    chunks = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise AssertionError("connection closed with %d bytes missing" % n)
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def ack_roundtrip(sock, message):
    sock.sendall(message)
    return recv_exactly(sock, 2)


def echo_roundtrip(sock, message):
    sock.sendall(message)
    return recv_exactly(sock, len(message))


def model_unavailable(error):
    text = str(error)
    return "not built yet" in text or "not available" in text


class ModelTest(unittest.TestCase):
    def server(self, service, *args, **kwargs):
        try:
            quiet = [] if "--log-level" in args else ["--quiet"]
            return Server("--service", service, "--model", MODEL, *quiet,
                          *MODEL_ARGS.get(MODEL, []), *args, **kwargs)
        except RuntimeError as e:
            if model_unavailable(e):
                self.skipTest(f"model {MODEL}: {e}")
            raise

    # --- one client ---------------------------------------------------------------------------

    def test_ack_answers_ok_and_logs(self):
        with self.server("ack", "--log-level", "info") as srv:
            with srv.connect() as s:
                self.assertEqual(ack_roundtrip(s, b"hello server"), b"OK")
                self.assertEqual(ack_roundtrip(s, b"again"), b"OK")
            self.assertEqual(srv.stop(), 0)
            self.assertIn("hello server", srv.stderr_text)

    def test_echo_one_client(self):
        with self.server("echo") as srv:
            with srv.connect() as s:
                for size in (1, 100, 70000):
                    msg = os.urandom(size)
                    self.assertEqual(echo_roundtrip(s, msg), msg)
            self.assertEqual(srv.stop(), 0)

    def test_ipv6(self):
        if not socket.has_ipv6:
            self.skipTest("no IPv6")
        try:
            srv = self.server("echo", listen="[::1]:0")
        except RuntimeError as e:
            self.skipTest(f"no ::1 here: {e}")
        with srv, srv.connect() as s:
            self.assertEqual(srv.host, "::1")
            self.assertEqual(echo_roundtrip(s, b"six"), b"six")

    def test_echo_16_mib_byte_for_byte(self):
        data = os.urandom(16 << 20)
        with self.server("echo") as srv, srv.connect(timeout=60) as s:
            received = []

            def reader():
                n = len(data)
                while n:
                    chunk = s.recv(1 << 20)
                    if not chunk:
                        break
                    received.append(chunk)
                    n -= len(chunk)

            t = threading.Thread(target=reader)
            t.start()
            s.sendall(data)
            t.join(60)
            got = b"".join(received)
            self.assertEqual(len(got), len(data))
            self.assertEqual(hashlib.sha256(got).digest(), hashlib.sha256(data).digest())

    def test_half_close_gets_everything_then_eof(self):
        with self.server("echo") as srv, srv.connect() as s:
            msg = os.urandom(300000)
            s.sendall(msg)
            s.shutdown(socket.SHUT_WR)
            got = b""
            while True:
                chunk = s.recv(1 << 16)
                if not chunk:
                    break
                got += chunk
            self.assertEqual(got, msg)

    # --- many clients -------------------------------------------------------------------------

    def run_clients(self, srv, service, count, concurrent):
        errors = []

        def client(i):
            try:
                with srv.connect(timeout=30) as s:
                    for round_ in range(3):
                        msg = f"client {i} round {round_}".encode()
                        if service == "echo":
                            if echo_roundtrip(s, msg) != msg:
                                errors.append(f"client {i}: wrong echo")
                        elif ack_roundtrip(s, msg) != b"OK":
                            errors.append(f"client {i}: no OK")
            except Exception as e:  # noqa: BLE001 - every failure is reported
                errors.append(f"client {i}: {e!r}")

        if concurrent:
            threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
        else:
            for i in range(count):
                client(i)
        self.assertEqual(errors, [])

    def test_fifty_clients(self):
        for service in ("ack", "echo"):
            with self.subTest(service=service), self.server(service) as srv:
                # The iterative server serves one at a time: 50 in a row.
                self.run_clients(srv, service, 50, concurrent=not ONE_AT_A_TIME)
                self.assertEqual(srv.stop(), 0)

    def test_second_client_waits_or_is_served_concurrently(self):
        with self.server("echo") as srv, srv.connect() as first:
            self.assertEqual(echo_roundtrip(first, b"1"), b"1")
            with srv.connect() as second:
                second.sendall(b"2")
                second.settimeout(1.0)
                if ONE_AT_A_TIME:
                    # Waits in the backlog while the first is being served...
                    with self.assertRaises(socket.timeout):
                        second.recv(1)
                    first.close()
                    second.settimeout(10)
                    # ...and is served as soon as the first leaves.
                    self.assertEqual(recv_exactly(second, 1), b"2")
                else:
                    self.assertEqual(recv_exactly(second, 1), b"2")
                    self.assertEqual(echo_roundtrip(first, b"3"), b"3")

    # --- bad peers ----------------------------------------------------------------------------

    def test_flood_without_reading_keeps_memory_bounded(self):
        for service in ("echo", "ack"):
            with self.subTest(service=service), self.server(service) as srv:
                with srv.connect() as warm:
                    warm.sendall(b"x")
                    warm.recv(2)
                before = tree_rss_kib(srv.pid)
                s = srv.connect()
                s.setblocking(False)
                chunk = b"z" * (1 << 20)
                sent = 0
                stalled_since = None
                # Up to 100 MiB; the server stops reading once its output is backed up, so the
                # sends stall: stop once nothing moved for a second.
                while sent < (100 << 20):
                    try:
                        sent += s.send(chunk)
                        stalled_since = None
                    except BlockingIOError:
                        now = time.monotonic()
                        stalled_since = stalled_since or now
                        if now - stalled_since > 1.0:
                            break
                        time.sleep(0.01)
                growth = tree_rss_kib(srv.pid) - before
                # A sanitizer's quarantine and shadow memory make RSS say nothing about the
                # server's own buffers; the plain build's run holds the bound.
                if not srv.sanitized:
                    self.assertLess(growth, RSS_GROWTH_LIMIT_KIB,
                                    f"server grew {growth} KiB after {sent >> 20} MiB unread")
                # It still serves everyone else.
                if not ONE_AT_A_TIME:
                    with srv.connect() as other:
                        if service == "echo":
                            self.assertEqual(echo_roundtrip(other, b"ping"), b"ping")
                        else:
                            self.assertEqual(ack_roundtrip(other, b"ping"), b"OK")
                s.close()
                self.assertEqual(srv.stop(), 0)

    def test_reset_mid_message_does_not_hurt_others(self):
        with self.server("echo") as srv:
            for _ in range(5):
                s = srv.connect()
                s.sendall(os.urandom(200000))
                # SO_LINGER 0: close() sends RST instead of FIN.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()
            with srv.connect() as s:
                self.assertEqual(echo_roundtrip(s, b"still here"), b"still here")
            self.assertEqual(srv.stop(), 0)

    def test_idle_timeout_closes_connection(self):
        with self.server("echo", "--idle-timeout", "1") as srv, srv.connect() as s:
            self.assertEqual(echo_roundtrip(s, b"a"), b"a")
            start = time.monotonic()
            s.settimeout(10)
            self.assertEqual(s.recv(1), b"")
            elapsed = time.monotonic() - start
            self.assertGreater(elapsed, 0.8)
            self.assertLess(elapsed, 5)

    def test_max_clients_refuses_extra_connections(self):
        if ONE_AT_A_TIME:
            self.skipTest("one connection at a time by design")
        with self.server("echo", "--max-clients", "2") as srv:
            a, b = srv.connect(), srv.connect()
            self.assertEqual(echo_roundtrip(a, b"a"), b"a")
            self.assertEqual(echo_roundtrip(b, b"b"), b"b")
            if MODEL == "prefork":
                a.close(), b.close()
                self.skipTest("prefork's limit is its worker count")
            c = srv.connect()
            c.settimeout(5)
            try:
                c.sendall(b"c")
                self.assertEqual(c.recv(1), b"")
            except ConnectionResetError:
                pass
            a.close()
            # A slot frees when a client leaves.
            self.assertTrue(wait_until(lambda: self._echo_ok(srv), timeout=5))
            b.close()
            c.close()

    def _echo_ok(self, srv):
        try:
            with srv.connect(timeout=2) as s:
                s.settimeout(2)
                return echo_roundtrip(s, b"k") == b"k"
        except OSError:
            return False
        except AssertionError:
            return False

    def test_out_of_descriptors_does_not_spin(self):
        if ONE_AT_A_TIME or MODEL in ("prefork",):
            self.skipTest("accepts only between connections")
        limits = {resource.RLIMIT_NOFILE: (32, 32)}
        with self.server("echo", limits=limits) as srv:
            if srv.sanitized:
                # The sanitizers' runtimes open descriptors of their own (UBSan's vptr check,
                # for one) and there are none left: the plain build's run holds this case.
                self.skipTest("the sanitizer runtime itself needs descriptors here")
            clients = []
            for _ in range(60):
                try:
                    clients.append(srv.connect(timeout=2))
                except OSError:
                    break
            before = cpu_seconds(srv.pid)
            time.sleep(1.5)
            used = cpu_seconds(srv.pid) - before
            self.assertLess(used, 0.5, f"server used {used:.2f} s of CPU in 1.5 s")
            for c in clients:
                c.close()
            self.assertTrue(wait_until(lambda: self._echo_ok(srv), timeout=10))
            self.assertEqual(srv.stop(), 0)

    def test_select_refuses_descriptors_past_fd_setsize(self):
        if MODEL != "select":
            self.skipTest("select only")
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard < 2500:
            self.skipTest("needs 2500 descriptors")
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2500), hard))
        with self.server("echo", limits={resource.RLIMIT_NOFILE: (2500, hard)}) as srv:
            clients = [srv.connect() for _ in range(1100)]
            # The ones past descriptor 1023 in the server are closed; the others are served.
            closed = 0
            for c in clients[-50:]:
                c.settimeout(5)
                try:
                    c.sendall(b"q")
                    if c.recv(1) == b"":
                        closed += 1
                except (ConnectionResetError, BrokenPipeError):
                    closed += 1
            self.assertEqual(closed, 50)
            self.assertEqual(echo_roundtrip(clients[0], b"w"), b"w")
            for c in clients:
                c.close()
            self.assertEqual(srv.stop(), 0)
            self.assertIn("event=watch-failed", srv.stderr_text)

    def test_thread_pool_refuses_when_queue_is_full(self):
        if MODEL != "thread-pool":
            self.skipTest("thread-pool only")
        with Server("--service", "echo", "--model", MODEL, "--workers", "1", "--max-workers", "1",
                    "--queue", "1") as srv:
            busy = srv.connect()
            self.assertEqual(echo_roundtrip(busy, b"1"), b"1")
            # The worker is taken: this one waits in the queue...
            queued = srv.connect()
            queued.sendall(b"2")
            # ...and with the queue full, the next is refused at once.
            refused = srv.connect(timeout=5)
            try:
                self.assertEqual(refused.recv(1), b"")
            except ConnectionResetError:
                pass
            busy.close()
            queued.settimeout(10)
            self.assertEqual(recv_exactly(queued, 1), b"2")
            queued.close()
            refused.close()
            self.assertEqual(srv.stop(), 0)

    # --- stopping -----------------------------------------------------------------------------

    def test_sigterm_exits_zero_leaving_no_child(self):
        with self.server("echo") as srv:
            clients = [srv.connect() for _ in range(1 if ONE_AT_A_TIME else 5)]
            for c in clients:
                self.assertEqual(echo_roundtrip(c, b"x"), b"x")
            kids = descendants(srv.pid)
            self.assertEqual(srv.stop(), 0)
            for k in kids:
                self.assertIn(state(k), (None,), f"child {k} outlived the server")
            for c in clients:
                c.close()

    def test_proc_helpers_tolerate_processes_that_exit_meanwhile(self):
        # A child that exits between the listing of /proc and the read of its files makes the
        # read fail with ESRCH (ProcessLookupError) or ENOENT: the helpers must skip it.
        import netmodels_server

        real_open = open

        def racing_open(path, *args, **kwargs):
            if str(path).startswith("/proc/") and not str(path).endswith("/maps"):
                raise ProcessLookupError(3, "No such process")
            return real_open(path, *args, **kwargs)

        netmodels_server.open = racing_open
        try:
            self.assertEqual(netmodels_server.tree_rss_kib(os.getpid()), 0)
            self.assertEqual(netmodels_server.descendants(os.getpid()), [])
            self.assertIsNone(netmodels_server.state(os.getpid()))
        finally:
            del netmodels_server.open

    def test_fork_leaves_no_zombie(self):
        if MODEL not in ("fork", "prefork"):
            self.skipTest("forking models only")
        with self.server("echo") as srv:
            for _ in range(10):
                with srv.connect() as s:
                    self.assertEqual(echo_roundtrip(s, b"z"), b"z")

            def no_zombies():
                return all(state(k) != "Z" for k in descendants(srv.pid))

            self.assertTrue(wait_until(no_zombies, timeout=5))
            if MODEL == "fork":
                self.assertTrue(wait_until(lambda: descendants(srv.pid) == [], timeout=5))
            self.assertEqual(srv.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
