#!/usr/bin/env python3
"""The PROXY protocol (v1 and v2) on one model: raw sockets play the balancer, sending headers
that name loopback clients (127.0.0.10, 127.0.0.11, ...) from the transport peer 127.0.0.1, and
one case runs through a real HAProxy (send-proxy-v2) with curl when haproxy is installed.

Environment: NETMODELS_BIN, NETMODELS_MODEL, as for ftp_test.py (whose Server this reuses).
Exits 77 (skipped) when the model is not available here.
"""

import os
import random
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import unittest

import ftp_test
from ftp_test import MODEL, PASSWORD, USER
from netmodels_server import descendants, make_certificate, wait_until

TIMEOUT = 10  # every socket wait: a case that hangs fails in bounded time
BALANCER = "127.0.0.1"  # the transport peer of every raw-socket case
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def v1(client, port, client_port=40000):
    return f"PROXY TCP4 {client} 127.0.0.1 {client_port} {port}\r\n".encode()


def v2(client, port, client_port=40000, command=1):
    body = socket.inet_aton(client) + socket.inet_aton("127.0.0.1")
    body += struct.pack("!HH", client_port, port)
    body += b"\x01\x00\x03ftp"  # a TLV (ALPN), to be skipped
    return V2_SIGNATURE + bytes([0x20 | command, 0x11]) + struct.pack("!H", len(body)) + body


V2_LOCAL = V2_SIGNATURE + b"\x20\x00\x00\x00"


class ProxyServer(ftp_test.Server):
    """The FTP server behind a (pretend) balancer: the start-up probe sends a header first."""

    PREAMBLE = V2_LOCAL


class Control:
    """A control connection by hand: one reply at a time."""

    def __init__(self, port, source=BALANCER):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.bind((source, 0))
        self.sock.connect(("127.0.0.1", port))
        self.buffer = b""

    def send(self, data):
        self.sock.sendall(data)

    def reply(self):
        """The next reply ('' once the server closed), multi-line replies whole."""
        while True:
            m = re.match(rb"(\d{3})-.*?\r\n\1 [^\r\n]*\r\n|\d{3} [^\r\n]*\r\n", self.buffer, re.S)
            if m:
                self.buffer = self.buffer[m.end():]
                return m.group(0).decode(errors="replace")
            try:
                chunk = self.sock.recv(4096)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return ""
            self.buffer += chunk

    def command(self, line):
        self.send(line.encode() + b"\r\n")
        return self.reply()

    def login(self):
        self.assertion(self.command(f"USER {USER}"), "331")
        self.assertion(self.command(f"PASS {PASSWORD}"), "230")

    @staticmethod
    def assertion(reply, code):
        if not reply.startswith(code):
            raise AssertionError(f"expected {code}, got {reply!r}")

    def closed_without_a_word(self):
        """True when the server closes without sending anything."""
        try:
            data = self.sock.recv(1024)
        except ConnectionResetError:
            return True
        return data == b""

    def silent_for(self, seconds):
        self.sock.settimeout(seconds)
        try:
            data = self.sock.recv(1024)
        except socket.timeout:
            return True
        finally:
            self.sock.settimeout(TIMEOUT)
        self.buffer += data
        return False

    def close(self):
        self.sock.close()


def serving_process(server_pid, port, sock):
    """The process below server_pid holding the server's end of the connection `sock`."""
    client_port = sock.getsockname()[1]
    inode = None
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if (fields[1].endswith(f":{port:04X}") and fields[2].endswith(f":{client_port:04X}")):
                inode = fields[9]
    if inode is None:
        return None
    for pid in descendants(server_pid):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return pid
        except (FileNotFoundError, ProcessLookupError):
            continue
    return None


def find_haproxy():
    return shutil.which("haproxy") or ("/usr/sbin/haproxy"
                                       if os.path.exists("/usr/sbin/haproxy") else None)


class HaproxyCase(unittest.TestCase):
    """What the cases that run a real HAProxy share."""

    def start_haproxy(self, folder, front, haproxy, host="127.0.0.1", extra=""):
        """HAProxy in the foreground on host:front (and what `extra` adds to its configuration),
        or None when it did not get the port."""
        with socket.socket() as probe:
            try:
                probe.bind((host, front))
            except OSError:
                return None
        cfg = os.path.join(folder, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(f"""global
    maxconn 64
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend ftp
    bind {host}:{front}
    default_backend farm
backend farm
    server one 127.0.0.1:{self.port} send-proxy-v2
{extra}""")
        proc = subprocess.Popen([haproxy, "-db", "-f", cfg], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

        def stop():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

        def listening():
            # HAProxy's own listening socket on the port (read from the kernel's tables, not by
            # connecting: a probe connection would be a session from 127.0.0.1 too, which
            # --max-per-ip 1 might still count when curl comes).
            if proc.poll() is not None:
                return True
            with open("/proc/net/tcp") as f:
                inodes = {line.split()[9] for line in f.readlines()[1:]
                          if line.split()[1].endswith(f":{front:04X}") and line.split()[3] == "0A"}
            try:
                fds = [os.readlink(f"/proc/{proc.pid}/fd/{fd}")
                       for fd in os.listdir(f"/proc/{proc.pid}/fd")]
            except (FileNotFoundError, ProcessLookupError):
                return False
            return any(f"socket:[{inode}]" in fds for inode in inodes)
        if not wait_until(listening, timeout=10) or proc.poll() is not None:
            stop()
            return None
        self.addCleanup(stop)
        return proc


class ProxyTest(HaproxyCase):
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = ProxyServer(extra=[
            "--proxy-protocol", "any", "--proxy-trusted", "127.0.0.1/32", "--proxy-timeout", "2",
            "--max-per-ip", "1"])
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        cls.server.stop(check=True)

    def control(self, source=BALANCER):
        c = Control(self.port, source)
        self.addCleanup(c.close)
        return c

    def test_v1_no_greeting_before_the_header_and_the_client_is_the_headers(self):
        c = self.control()
        self.assertTrue(c.silent_for(0.3), "the server spoke before the PROXY header")
        c.send(v1("127.0.0.20", self.port, 12345))
        self.assertTrue(c.reply().startswith("220"))
        c.login()
        stat = c.command("STAT")
        self.assertIn("Connected to 127.0.0.20", stat)
        self.assertTrue(wait_until(
            lambda: "event=login user=alice peer=127.0.0.20:12345 result=ok" in self.server.log(),
            timeout=5), self.server.log()[-2000:])
        c.command("QUIT")

    def test_v2_header_and_commands_in_one_packet(self):
        c = self.control()
        c.send(v2("127.0.0.21", self.port, 2222) + f"USER {USER}\r\nPASS {PASSWORD}\r\n".encode())
        self.assertTrue(c.reply().startswith("220"))
        self.assertTrue(c.reply().startswith("331"))
        self.assertTrue(c.reply().startswith("230"))
        self.assertIn("Connected to 127.0.0.21", c.command("STAT"))
        c.command("QUIT")
        self.assertTrue(wait_until(
            lambda: re.search(r"event=session id=\d+ peer=127\.0\.0\.21:2222 user=alice .*"
                              r"via=127\.0\.0\.1:\d+", self.server.log()), timeout=5),
            self.server.log()[-2000:])

    def test_max_per_ip_counts_the_headers_client(self):
        if MODEL == "iterative":
            self.skipTest("iterative serves one connection at a time")
        first = self.control()
        first.send(v1("127.0.0.10", self.port))
        self.assertTrue(first.reply().startswith("220"))
        first.login()
        # The same balancer, the same client: refused once the header names it.
        second = self.control()
        second.send(v1("127.0.0.10", self.port, 40001))
        self.assertTrue(second.reply().startswith("421"))
        self.assertEqual(second.reply(), "")
        # The same balancer, another client: served.
        third = self.control()
        third.send(v2("127.0.0.11", self.port))
        self.assertTrue(third.reply().startswith("220"))
        third.login()
        self.assertIn("event=refused", self.server.log())
        for c in (first, third):
            c.command("QUIT")

    def test_a_killed_child_gives_its_clients_count_back(self):
        if MODEL not in ("fork", "prefork"):
            self.skipTest("only fork and prefork serve a session in a process of its own")
        c = self.control()
        c.send(v1("127.0.0.70", self.port))
        self.assertTrue(c.reply().startswith("220"))
        c.login()
        pid = serving_process(self.server.proc.pid, self.port, c.sock)
        self.assertIsNotNone(pid, "no process holds the session")
        os.kill(pid, signal.SIGKILL)
        self.assertEqual(c.reply(), "")
        # Killed, it could not give back its count: its parent does, once it reaps it. Until
        # then a new session from the same client may still get 421.

        def served_again():
            again = Control(self.port)
            try:
                again.send(v1("127.0.0.70", self.port))
                return again.reply().startswith("220")
            finally:
                again.close()
        self.assertTrue(wait_until(served_again, timeout=5, interval=0.2))

    def test_untrusted_transport_peer_is_closed(self):
        c = self.control(source="127.0.0.3")
        c.send(v1("127.0.0.30", self.port))
        self.assertTrue(c.closed_without_a_word())
        self.assertTrue(wait_until(
            lambda: re.search(r"event=proxy-refused id=\d+ peer=127\.0\.0\.3:\d+ reason=untrusted",
                              self.server.log()), timeout=5))

    def test_garbage_and_missing_headers_are_closed(self):
        for first in (f"USER {USER}\r\n".encode(), b"PROXY TCP4 1.2.3.4 nonsense\r\n",
                      b"PROXY TCP6 " + b"f" * 120, V2_SIGNATURE + b"\x21\x11\x00\x04abcd"):
            c = self.control()
            c.send(first)
            self.assertTrue(c.closed_without_a_word(), first)
        # A header that never ends: closed at --proxy-timeout (2 s), not at the idle time-out.
        c = self.control()
        c.send(b"PROXY TCP4 127.0.0.3")
        started = time.monotonic()
        self.assertTrue(c.closed_without_a_word())
        self.assertLess(time.monotonic() - started, 6)
        self.assertTrue(wait_until(lambda: "reason=timeout" in self.server.log(), timeout=5))

    def test_pasv_data_comes_from_the_transport_peer(self):
        with open(os.path.join(self.server.root, "pasv.txt"), "wb") as f:
            f.write(b"through the balancer\n")
        c = self.control()
        c.send(v1("127.0.0.40", self.port))
        self.assertTrue(c.reply().startswith("220"))
        c.login()
        reply = c.command("PASV")
        nums = [int(n) for n in re.search(r"\((\d+(?:,\d+){5})\)", reply).group(1).split(",")]
        data_port = nums[4] * 256 + nums[5]
        # The header's client connecting itself is not the balancer: refused, and the listener
        # waits on for the right one.
        intruder = socket.socket()
        self.addCleanup(intruder.close)
        intruder.settimeout(TIMEOUT)
        intruder.bind(("127.0.0.40", 0))
        intruder.connect(("127.0.0.1", data_port))
        c.send(b"RETR pasv.txt\r\n")
        with socket.socket() as data:
            data.settimeout(TIMEOUT)
            data.bind((BALANCER, 0))
            data.connect(("127.0.0.1", data_port))
            self.assertTrue(c.reply().startswith("150"))
            body = b""
            while chunk := data.recv(4096):
                body += chunk
        self.assertEqual(body, b"through the balancer\n")
        self.assertTrue(c.reply().startswith("226"))
        self.assertTrue(wait_until(lambda: "event=data-refused from=127.0.0.40" in
                                   self.server.log(), timeout=5))
        c.command("QUIT")

    def test_port_goes_to_the_headers_client(self):
        c = self.control()
        c.send(v2("127.0.0.50", self.port))
        self.assertTrue(c.reply().startswith("220"))
        c.login()
        # To the balancer's host: not the client's, refused (RFC 2577).
        self.assertTrue(c.command("PORT 127,0,0,1,200,10").startswith("504"))
        with socket.socket() as listener:
            listener.bind(("127.0.0.50", 0))
            listener.listen(1)
            listener.settimeout(TIMEOUT)
            p = listener.getsockname()[1]
            self.assertTrue(c.command(f"PORT 127,0,0,50,{p >> 8},{p & 255}").startswith("200"))
            c.send(b"LIST\r\n")
            conn, _ = listener.accept()
            with conn:
                self.assertTrue(c.reply().startswith("150"))
                while conn.recv(4096):
                    pass
        self.assertTrue(c.reply().startswith("226"))
        c.command("QUIT")

    def test_health_checks_log_at_debug_only(self):
        start = len(self.server.log())
        local = self.control()
        local.send(V2_LOCAL)
        self.assertTrue(local.reply().startswith("220"))
        local.command("QUIT")
        local_port = local.sock.getsockname()[1]
        quitter = self.control()
        quitter.send(v1("127.0.0.60", self.port))
        self.assertTrue(quitter.reply().startswith("220"))
        quitter.command("QUIT")
        silent = self.control()
        silent.send(v1("127.0.0.61", self.port))
        self.assertTrue(silent.reply().startswith("220"))
        silent.close()
        # A client that says something before leaving is logged as ever, and after the others.
        talker = self.control()
        talker.send(v1("127.0.0.62", self.port))
        self.assertTrue(talker.reply().startswith("220"))
        talker.command("SYST")
        talker.command("QUIT")
        self.assertTrue(wait_until(lambda: "peer=127.0.0.62:" in self.server.log(), timeout=5))
        time.sleep(0.3)
        sessions = [line for line in self.server.log()[start:].splitlines()
                    if " event=session " in line]
        for quiet in (f"peer=127.0.0.1:{local_port} ", "peer=127.0.0.60:", "peer=127.0.0.61:"):
            self.assertFalse([line for line in sessions if quiet in line], sessions)

    def test_through_haproxy_send_proxy_v2(self):
        haproxy = find_haproxy()
        if not haproxy or not shutil.which("curl"):
            self.skipTest("haproxy or curl is not installed")
        with open(os.path.join(self.server.root, "via-haproxy.txt"), "wb") as f:
            f.write(b"hello from behind haproxy\n")
        folder = tempfile.mkdtemp(prefix="nm-haproxy-")
        self.addCleanup(shutil.rmtree, folder, True)
        # Below the ephemeral range, so the other tests' outgoing connections do not take it
        # meanwhile; another test may still hold it: then try the next.
        for attempt in range(10):
            front = random.randrange(20000, 30000)
            proc = self.start_haproxy(folder, front, haproxy)
            if proc:
                break
        else:
            self.fail("haproxy did not start")
        # EPSV: curl connects to the balancer's address at the server's passive port, on the
        # same loopback host, as a farm's per-instance port ranges would route it.
        out = subprocess.run(
            ["curl", "-sSv", "--max-time", "20", f"ftp://{USER}:{PASSWORD}@127.0.0.1:{front}/"
             "via-haproxy.txt"], capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr.decode(errors="replace") +
                         self.server.log()[-3000:])
        self.assertEqual(out.stdout, b"hello from behind haproxy\n")


def patterned(size):
    """Bytes no two positions alike within a while, so a lost or repeated piece shows."""
    return bytes((i * 31 + i // 4093) % 253 for i in range(size))


def passive_port(c, epsv):
    if epsv:
        reply = c.command("EPSV")
        return int(re.search(r"\(\|\|\|(\d+)\|\)", reply).group(1))
    reply = c.command("PASV")
    nums = [int(n) for n in re.search(r"\((\d+(?:,\d+){5})\)", reply).group(1).split(",")]
    return nums[4] * 256 + nums[5]


def data_socket(port, first=b"", source=BALANCER):
    """A data connection from `source` whose first segment is `first` (a header, and perhaps
    the stream's first bytes: one send, so one segment on loopback)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    if first:
        sock.sendall(first)
    return sock


def read_to_end(sock):
    body = b""
    try:
        while chunk := sock.recv(65536):
            body += chunk
    except ConnectionResetError:
        pass
    return body


class TlsData:
    """A PROT P data connection by hand (memory BIOs), so that its ClientHello goes out in the
    same segment as its PROXY header."""

    def __init__(self, context, session, port, header):
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname="localhost",
                                    session=session)
        self.sock = None
        self.tls_step(self.tls.do_handshake)  # the ClientHello, kept for the header's segment
        self.sock = data_socket(port, header + self.outgoing.read())
        while not self.tls_step(self.tls.do_handshake):
            self.pull()

    def tls_step(self, call, *args):
        """Runs `call`, sending what it wrote; None when it wants more input."""
        try:
            result = call(*args)
            ok = True if result is None else result
        except ssl.SSLWantReadError:
            ok = None
        if self.sock:
            out = self.outgoing.read()
            if out:
                self.sock.sendall(out)
        return ok

    def pull(self):
        chunk = self.sock.recv(65536)
        if chunk:
            self.incoming.write(chunk)
        else:
            self.incoming.write_eof()

    def read_all(self):
        body = b""
        while True:
            try:
                piece = self.tls.read(65536)
            except ssl.SSLWantReadError:
                self.pull()
                continue
            except ssl.SSLZeroReturnError:
                return body
            if not piece:
                return body
            body += piece

    def write_all(self, data):
        self.tls_step(self.tls.write, data)
        try:
            self.tls.unwrap()  # our close_notify: the upload is whole
        except ssl.SSLWantReadError:
            pass
        self.sock.sendall(self.outgoing.read())

    def close(self):
        self.sock.close()


class ProxyDataTest(HaproxyCase):
    """--proxy-protocol-data: every passive data connection carries a PROXY header of its own,
    from a trusted balancer (127.0.0.1 and 127.0.0.2 here: any of a farm's), naming the control
    connection's client."""

    server = None

    @classmethod
    def setUpClass(cls):
        # Passive ports of their own, below the ephemeral range, so the HAProxy case can put a
        # frontend on the same ports of another loopback address.
        cls.pasv_low = random.randrange(20000, 29000, 20)
        cls.server = ProxyServer(extra=[
            "--proxy-protocol", "any", "--proxy-trusted", "127.0.0.1/32,127.0.0.2/32",
            "--proxy-timeout", "2", "--proxy-protocol-data",
            "--pasv-ports", f"{cls.pasv_low}-{cls.pasv_low + 19}"])
        cls.port = cls.server.port

    @classmethod
    def tearDownClass(cls):
        cls.server.stop(check=True)

    def session(self, client):
        c = Control(self.port)
        self.addCleanup(c.close)
        c.send(v1(client, self.port, 41000))
        self.assertTrue(c.reply().startswith("220"))
        c.login()
        c.assertion(c.command("TYPE I"), "200")
        return c

    def put_file(self, name, content):
        with open(os.path.join(self.server.root, name), "wb") as f:
            f.write(content)

    def stored(self, name):
        with open(os.path.join(self.server.root, name), "rb") as f:
            return f.read()

    def test_retr_with_v1_and_v2_data_headers(self):
        content = patterned(700_000)
        self.put_file("down.bin", content)
        c = self.session("127.0.0.40")
        for header in (v1, v2):
            for epsv in (False, True):
                port = passive_port(c, epsv)
                c.send(b"RETR down.bin\r\n")
                with data_socket(port, header("127.0.0.40", port, 41001)) as data:
                    self.assertTrue(c.reply().startswith("150"))
                    body = read_to_end(data)
                self.assertEqual(body, content, (header.__name__, epsv))
                self.assertTrue(c.reply().startswith("226"))
        c.command("QUIT")

    def test_stor_whose_first_bytes_share_the_headers_segment(self):
        content = patterned(500_000)
        c = self.session("127.0.0.41")
        # v1 and v2; the second from another balancer of the farm.
        for i, (header, balancer) in enumerate(((v1, BALANCER), (v2, "127.0.0.2"))):
            port = passive_port(c, i == 1)
            c.send(f"STOR up{i}.bin\r\n".encode())
            with data_socket(port, header("127.0.0.41", port, 41002) + content[:1000],
                             source=balancer) as data:
                self.assertTrue(c.reply().startswith("150"))
                data.sendall(content[1000:])
                data.shutdown(socket.SHUT_WR)
                self.assertTrue(c.reply().startswith("226"))
            self.assertEqual(self.stored(f"up{i}.bin"), content, header.__name__)
        # A small upload that is nothing but one segment, header included.
        port = passive_port(c, False)
        c.send(b"STOR tiny.txt\r\n")
        with data_socket(port, v2("127.0.0.41", port) + b"all in one segment\n") as data:
            data.shutdown(socket.SHUT_WR)
            self.assertTrue(c.reply().startswith("150"))
            self.assertTrue(c.reply().startswith("226"))
        self.assertEqual(self.stored("tiny.txt"), b"all in one segment\n")
        c.command("QUIT")

    def assert_refused(self, sock):
        """The server closes `sock` without sending a byte."""
        self.assertEqual(read_to_end(sock), b"")
        sock.close()

    def test_another_clients_header_is_refused_and_the_right_one_served(self):
        self.put_file("mine.txt", b"only for 127.0.0.42\n")
        c = self.session("127.0.0.42")
        port = passive_port(c, True)
        c.send(b"RETR mine.txt\r\n")
        self.assertTrue(c.reply().startswith("150"))
        self.assert_refused(data_socket(port, v1("127.0.0.43", port)))
        self.assert_refused(data_socket(port, V2_LOCAL))
        with data_socket(port, v2("127.0.0.42", port)) as data:
            self.assertEqual(read_to_end(data), b"only for 127.0.0.42\n")
        self.assertTrue(c.reply().startswith("226"))
        log = self.server.log()
        self.assertRegex(log, r"event=data-refused id=\d+ from=127\.0\.0\.1:\d+ "
                         r"client=127\.0\.0\.42:41000 named=127\.0\.0\.43:40000 "
                         r"reason=other-client")
        self.assertRegex(log, r"event=data-refused id=\d+ from=127\.0\.0\.1:\d+ "
                         r"client=127\.0\.0\.42:41000 reason=local")
        c.command("QUIT")

    def test_no_header_or_an_untrusted_source_is_refused(self):
        c = self.session("127.0.0.44")
        port = passive_port(c, False)
        c.send(b"STOR nohdr.bin\r\n")
        self.assertTrue(c.reply().startswith("150"))
        # The client itself, not a balancer: closed at once, unread.
        self.assert_refused(data_socket(port, v1("127.0.0.44", port), source="127.0.0.44"))
        # Data without a header: closed at its first byte.
        self.assert_refused(data_socket(port, b"plain upload bytes"))
        # Nothing at all: closed at --proxy-timeout (2 s), and the listener waits on.
        started = time.monotonic()
        self.assert_refused(data_socket(port))
        self.assertLess(time.monotonic() - started, 6)
        with data_socket(port, v1("127.0.0.44", port) + b"at last") as data:
            data.shutdown(socket.SHUT_WR)
            self.assertTrue(c.reply().startswith("226"))
        self.assertEqual(self.stored("nohdr.bin"), b"at last")
        log = self.server.log()
        for reason in ("untrusted", "bad-signature", "timeout"):
            self.assertRegex(log, r"event=data-refused id=\d+ from=127\.0\.0\.\d+:\d+ "
                             r"client=127\.0\.0\.44:41000 reason=" + reason)
        c.command("QUIT")

    def test_prot_p_client_hello_shares_the_headers_segment(self):
        certs = tempfile.mkdtemp(prefix="nm-proxy-certs-")
        self.addCleanup(shutil.rmtree, certs, True)
        cert, key = make_certificate(certs, "server")
        server = ProxyServer(extra=[
            "--proxy-protocol", "v2", "--proxy-trusted", "127.0.0.1/32", "--proxy-protocol-data",
            "--tls-cert", cert, "--tls-key", key])
        self.addCleanup(server.stop)
        context = ssl.create_default_context(cafile=cert)
        c = Control(server.port)
        self.addCleanup(c.close)
        c.send(v2("127.0.0.45", server.port))
        self.assertTrue(c.reply().startswith("220"))
        c.assertion(c.command("AUTH TLS"), "234")
        c.sock = context.wrap_socket(c.sock, server_hostname="localhost")
        c.login()
        for line, code in (("PBSZ 0", "200"), ("PROT P", "200"), ("TYPE I", "200")):
            c.assertion(c.command(line), code)
        content = patterned(200_000)
        port = passive_port(c, True)
        c.send(b"STOR secret.bin\r\n")
        data = TlsData(context, c.sock.session, port, v2("127.0.0.45", port))
        self.assertTrue(c.reply().startswith("150"))
        data.write_all(content)
        self.assertTrue(c.reply().startswith("226"))
        data.close()
        port = passive_port(c, True)
        c.send(b"RETR secret.bin\r\n")
        data = TlsData(context, c.sock.session, port, v2("127.0.0.45", port))
        self.assertTrue(c.reply().startswith("150"))
        self.assertEqual(data.read_all(), content)
        self.assertTrue(c.reply().startswith("226"))
        data.close()
        c.command("QUIT")

    def test_through_haproxy_data_frontend_send_proxy_v2(self):
        haproxy = find_haproxy()
        if not haproxy or not shutil.which("curl"):
            self.skipTest("haproxy or curl is not installed")
        content = patterned(300_000)
        self.put_file("via-haproxy.bin", content)
        folder = tempfile.mkdtemp(prefix="nm-haproxy-")
        self.addCleanup(shutil.rmtree, folder, True)
        # The balancer on 127.0.0.5: the control port, and the passive range, each routed to
        # the server's own port of the same number with send-proxy-v2.
        low, high = self.pasv_low, self.pasv_low + 19
        extra = f"""frontend data
    bind 127.0.0.5:{low}-{high}
    default_backend passive
backend passive
    server one 127.0.0.1 send-proxy-v2
"""
        for attempt in range(10):
            front = random.randrange(30000, 32000)
            proc = self.start_haproxy(folder, front, haproxy, host="127.0.0.5", extra=extra)
            if proc:
                break
        else:
            self.fail("haproxy did not start")
        before = len(self.server.log())
        url = f"ftp://{USER}:{PASSWORD}@127.0.0.5:{front}/"
        out = subprocess.run(["curl", "-sS", "--max-time", "20", url + "via-haproxy.bin"],
                             capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr.decode(errors="replace") +
                         self.server.log()[-3000:])
        self.assertEqual(out.stdout, content)
        upload = os.path.join(folder, "up.bin")
        with open(upload, "wb") as f:
            f.write(content)
        out = subprocess.run(["curl", "-sS", "--max-time", "20", "-T", upload,
                              url + "via-haproxy-up.bin"], capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr.decode(errors="replace") +
                         self.server.log()[-3000:])
        self.assertEqual(self.stored("via-haproxy-up.bin"), content)
        self.assertNotIn("event=data-refused", self.server.log()[before:])


def main():
    return ftp_test.run_tests(lambda: ProxyServer(extra=["--proxy-protocol", "v2"]))


if __name__ == "__main__":
    sys.exit(main())
