#!/usr/bin/env python3
"""FTPS (RFC 4217) on one model, driven by the clients people use: curl, lftp, Python's ftplib
(stock, which does not reuse TLS sessions, and a subclass that does), openssl s_client, and raw
sockets for what no polite client does (an injected command, a truncated upload, a stalled
handshake).

Environment: NETMODELS_BIN, NETMODELS_MODEL, as for ftp_test.py (whose Server this reuses).
Exits 77 (skipped) when the model is not available here.
"""

import ftplib
import io
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

import ftp_test
from ftp_test import PASSWORD, TIMEOUT, USER, Server, run_tests, sha
from netmodels_server import cpu_seconds, make_certificate, wait_until


class ReusingFTP_TLS(ftplib.FTP_TLS):
    """ftplib.FTP_TLS that resumes the control connection's TLS session on data connections,
    as FileZilla, curl and lftp do (stock ftplib does not, and gets 522)."""

    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host,
                                            session=self.sock.session)
        return conn, size


class FtpsServer(Server):
    """The FTP server with a certificate, an implicit-TLS listener, and --tls LEVEL."""

    def __init__(self, cert, key, extra=()):
        super().__init__(extra=["--tls-cert", cert, "--tls-key", key,
                                "--implicit-tls", "127.0.0.1:0", *extra])
        line = self.proc.stdout.readline().decode()
        m = re.search(r"implicit TLS on .*:(\d+)", line)
        if not m:
            self.stop(check=False)
            raise AssertionError(f"no implicit TLS line: {line!r}")
        self.implicit_port = int(m.group(1))


class FtpsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.mkdtemp(prefix="nm-ftps-certs-")
        cls.cert, cls.key = make_certificate(cls.certs, "server")
        cls.server = FtpsServer(cls.cert, cls.key)
        cls.root = cls.server.root
        cls.port = cls.server.port
        cls.context = ssl.create_default_context(cafile=cls.cert)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop(check=True)
        shutil.rmtree(cls.certs, ignore_errors=True)

    def put_file(self, name, data):
        with open(os.path.join(self.root, name), "wb") as f:
            f.write(data)

    def read_file(self, name):
        with open(os.path.join(self.root, name), "rb") as f:
            return f.read()

    def tls_ftp(self, cls=ReusingFTP_TLS, prot_p=True):
        ftp = cls(context=self.context, timeout=TIMEOUT)
        ftp.connect("localhost", self.port)
        ftp.login(USER, PASSWORD)  # FTP_TLS.login sends AUTH TLS first
        if prot_p:
            ftp.prot_p()
        self.addCleanup(self._close, ftp)
        return ftp

    # A module, not the class, in this namespace: unittest would run every FtpTest case here too.
    _close = staticmethod(ftp_test.FtpTest._close)

    def curl(self, *args, url_path="", scheme="ftp", port=None):
        port = port or self.port
        cmd = ["curl", "-sS", "--cacert", self.cert, "--max-time", "60", "-u",
               f"{USER}:{PASSWORD}", *args, f"{scheme}://localhost:{port}/{url_path}"]
        return subprocess.run(cmd, capture_output=True, timeout=90)

    # --- the protocol --------------------------------------------------------------------

    def test_feat_offers_tls_and_the_commands_keep_their_order(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT) as s:
            f = s.makefile("rwb")
            f.readline()
            f.write(b"FEAT\r\n")
            f.flush()
            lines = []
            while True:
                line = f.readline().decode()
                lines.append(line.strip())
                if line.startswith("211 "):
                    break
            for feature in ("AUTH TLS", "PBSZ", "PROT"):
                self.assertIn(feature, lines)
            for command, code in ((b"PBSZ 0", b"503"), (b"PROT P", b"503"), (b"CCC", b"533"),
                                  (b"AUTH KERBEROS_V4", b"504")):
                f.write(command + b"\r\n")
                f.flush()
                self.assertTrue(f.readline().startswith(code), command)

    def test_prot_levels_and_ccc_under_tls(self):
        ftp = self.tls_ftp(prot_p=False)
        with self.assertRaises(ftplib.error_perm) as e:
            ftp.sendcmd("PROT S")
        self.assertTrue(str(e.exception).startswith("536"))
        with self.assertRaises(ftplib.error_perm) as e:
            ftp.sendcmd("CCC")
        self.assertTrue(str(e.exception).startswith("534"))
        self.assertTrue(ftp.sendcmd("PROT C").startswith("200"))
        # PROT C under TLS: a clear data connection still works at --tls optional.
        self.put_file("clear.txt", b"clear data\n")
        got = io.BytesIO()
        ftp.retrbinary("RETR clear.txt", got.write)
        self.assertEqual(got.getvalue(), b"clear data\n")

    def test_auth_tls_drops_plaintext_sent_after_it(self):
        # CVE-2011-0411's shape: commands pipelined after AUTH TLS in the same packet must never
        # run as if they came under TLS.
        with socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT) as raw:
            raw.recv(1024)
            raw.sendall(b"AUTH TLS\r\nUSER evil\r\n")
            reply = b""
            while not reply.endswith(b"\r\n"):
                reply += raw.recv(1)
            self.assertTrue(reply.startswith(b"234"), reply)
            with self.context.wrap_socket(raw, server_hostname="localhost") as tls:
                f = tls.makefile("rwb")
                f.write(b"PASS secret\r\n")
                f.flush()
                answer = f.readline()
                # USER evil never ran, so PASS has no user to go with.
                self.assertTrue(answer.startswith(b"503"), answer)
                f.write(b"QUIT\r\n")
                f.flush()
                f.readline()
        self.assertNotIn("user=evil", self.server.log())

    def test_rein_ends_tls_and_the_connection_goes_back_to_clear(self):
        # RFC 4217 section 11: REIN clears the TLS session; after both close_notify alerts the
        # control connection is clear again, and a new AUTH TLS may follow.
        def line(sock):
            reply = b""
            while not reply.endswith(b"\r\n"):
                chunk = sock.recv(1)
                if not chunk:
                    break
                reply += chunk
            return reply

        def ask(sock, command):
            sock.sendall(command + b"\r\n")
            return line(sock)

        with socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT) as raw:
            line(raw)
            self.assertTrue(ask(raw, b"AUTH TLS").startswith(b"234"))
            tls = self.context.wrap_socket(raw, server_hostname="localhost")
            self.assertTrue(ask(tls, b"USER " + USER.encode()).startswith(b"331"))
            self.assertTrue(ask(tls, b"PASS " + PASSWORD.encode()).startswith(b"230"))
            self.assertTrue(ask(tls, b"REIN").startswith(b"220"))
            clear = tls.unwrap()  # our close_notify; the server's came after its 220
            self.assertTrue(ask(clear, b"USER " + USER.encode()).startswith(b"331"))
            self.assertTrue(ask(clear, b"PASS " + PASSWORD.encode()).startswith(b"230"))
            self.assertTrue(ask(clear, b"PROT P").startswith(b"503"))  # no TLS, no PROT
            self.assertTrue(ask(clear, b"AUTH TLS").startswith(b"234"))
            with self.context.wrap_socket(clear, server_hostname="localhost") as again:
                self.assertTrue(ask(again, b"NOOP").startswith(b"200"))
                ask(again, b"QUIT")
        self.assertIn("event=tls-ended", self.server.log())

    # --- ftplib ------------------------------------------------------------------------

    def test_ftplib_with_session_reuse_moves_bytes_intact(self):
        data = os.urandom(3 << 20)
        self.put_file("down.bin", data)
        ftp = self.tls_ftp()
        got = io.BytesIO()
        ftp.retrbinary("RETR down.bin", got.write)
        self.assertEqual(sha(got.getvalue()), sha(data))
        ftp.storbinary("STOR up.bin", io.BytesIO(data))
        self.assertEqual(sha(self.read_file("up.bin")), sha(data))
        names = ftp.nlst()
        self.assertIn("up.bin", names)
        # Resume: REST then RETR of the rest.
        got = io.BytesIO()
        ftp.retrbinary("RETR down.bin", got.write, rest=1000)
        self.assertEqual(got.getvalue(), data[1000:])
        # TYPE A over TLS converts as it does in clear.
        self.put_file("text.txt", b"one\ntwo\n")
        lines = []
        ftp.retrlines("RETR text.txt", lines.append)
        self.assertEqual(lines, ["one", "two"])

    def test_stock_ftplib_without_reuse_gets_522_naming_the_option(self):
        self.put_file("secret.txt", b"not for a stolen port\n")
        ftp = self.tls_ftp(cls=ftplib.FTP_TLS)
        got = io.BytesIO()
        try:
            ftp.retrbinary("RETR secret.txt", got.write)
            self.fail("the transfer went through without session reuse")
        except ftplib.error_perm as e:
            reply = str(e)
        except (ssl.SSLError, OSError):
            reply = ftp.getline()  # the data connection was cut; the reply follows
        self.assertTrue(reply.startswith("522"), reply)
        self.assertIn("--tls-no-reuse", reply)
        self.assertEqual(got.getvalue(), b"")
        # The control connection goes on.
        self.assertTrue(ftp.sendcmd("NOOP").startswith("200"))

    def test_truncated_upload_keeps_the_old_file(self):
        old = b"the file as it was\n"
        self.put_file("keep.bin", old)
        ftp = self.tls_ftp()
        conn = ftp.transfercmd("STOR keep.bin")
        conn.sendall(os.urandom(200000))
        # Close the socket under the TLS stream without close_notify: a truncation.
        raw = socket.socket(fileno=os.dup(conn.fileno()))
        raw.shutdown(socket.SHUT_RDWR)
        raw.close()
        conn.close()
        with self.assertRaises(ftplib.Error) as e:
            ftp.voidresp()
        self.assertTrue(str(e.exception).startswith("426"), str(e.exception))
        self.assertEqual(self.read_file("keep.bin"), old)
        leftovers = [n for n in os.listdir(self.root) if n.startswith(".nm-upload")]
        self.assertEqual(leftovers, [])

    # --- curl, lftp, openssl -----------------------------------------------------------

    def test_curl_explicit_list_get_put_resume(self):
        data = os.urandom(2 << 20)
        self.put_file("curl.bin", data)
        r = self.curl("--ssl-reqd", url_path="")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"curl.bin", r.stdout)
        r = self.curl("--ssl-reqd", url_path="curl.bin")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sha(r.stdout), sha(data))
        with tempfile.NamedTemporaryFile() as f:
            f.write(data)
            f.flush()
            r = self.curl("--ssl-reqd", "-T", f.name, url_path="curl-up.bin")
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sha(self.read_file("curl-up.bin")), sha(data))
        # Resume a download from a partial local copy.
        with tempfile.TemporaryDirectory() as d:
            partial = os.path.join(d, "part.bin")
            with open(partial, "wb") as f:
                f.write(data[:700000])
            r = self.curl("--ssl-reqd", "-C", "-", "-o", partial, url_path="curl.bin")
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(partial, "rb") as f:
                self.assertEqual(sha(f.read()), sha(data))

    def test_curl_implicit_ftps(self):
        data = os.urandom(1 << 20)
        self.put_file("implicit.bin", data)
        r = self.curl(url_path="implicit.bin", scheme="ftps", port=self.server.implicit_port)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sha(r.stdout), sha(data))
        with tempfile.NamedTemporaryFile() as f:
            f.write(data)
            f.flush()
            r = self.curl("-T", f.name, url_path="implicit-up.bin", scheme="ftps",
                          port=self.server.implicit_port)
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sha(self.read_file("implicit-up.bin")), sha(data))

    def test_lftp_mirror_both_ways_with_protected_data(self):
        if not shutil.which("lftp"):
            self.skipTest("lftp is not installed")
        src = os.path.join(self.root, "tree")
        os.makedirs(os.path.join(src, "sub"))
        files = {"a.bin": os.urandom(300000), "sub/b.txt": b"hello\n" * 1000}
        for name, data in files.items():
            with open(os.path.join(src, name), "wb") as f:
                f.write(data)
        with tempfile.TemporaryDirectory() as local:
            script = (f"set ssl:ca-file {self.cert}; set ftp:ssl-force true; "
                      "set ftp:ssl-protect-data true; set ftp:ssl-protect-list true; "
                      "set net:max-retries 1; set net:timeout 20; "
                      f"open -u {USER},{PASSWORD} ftp://localhost:{self.port}; "
                      f"mirror tree {local}/down; mirror -R {local}/down tree-back; bye")
            r = subprocess.run(["lftp", "-c", script], capture_output=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            for name, data in files.items():
                with open(os.path.join(local, "down", name), "rb") as f:
                    self.assertEqual(sha(f.read()), sha(data), name)
                self.assertEqual(sha(self.read_file(os.path.join("tree-back", name))), sha(data))
        self.assertIn("event=tls ", self.server.log())

    def test_openssl_starttls_ftp_resumes_a_session(self):
        with tempfile.TemporaryDirectory() as d:
            sess = os.path.join(d, "session.pem")
            base = ["openssl", "s_client", "-starttls", "ftp", "-connect",
                    f"127.0.0.1:{self.port}", "-CAfile", self.cert, "-verify_return_error",
                    "-tls1_2"]
            first = subprocess.run(base + ["-sess_out", sess], input=b"QUIT\r\n",
                                   capture_output=True, timeout=30)
            self.assertIn(b"Verify return code: 0 (ok)", first.stdout, first.stderr)
            second = subprocess.run(base + ["-sess_in", sess], input=b"QUIT\r\n",
                                    capture_output=True, timeout=30)
            self.assertIn(b"Reused, TLSv1.2", second.stdout, second.stdout[-2000:])

    # --- what must cost nothing, and certificates that change ------------------------------

    def test_stalled_handshake_costs_no_cpu_and_is_timed_out(self):
        server = FtpsServer(self.cert, self.key, extra=["--tls-handshake-timeout", "2"])
        try:
            socks = []
            for _ in range(5):
                s = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT)
                s.recv(1024)
                s.sendall(b"AUTH TLS\r\n")
                s.recv(1024)  # 234; then no ClientHello ever
                socks.append(s)
            implicit = socket.create_connection(("127.0.0.1", server.implicit_port),
                                                timeout=TIMEOUT)
            socks.append(implicit)
            before = cpu_seconds(server.proc.pid)
            time.sleep(1.0)
            self.assertLess(cpu_seconds(server.proc.pid) - before, 0.2)

            def all_closed():
                for s in socks:
                    s.settimeout(0.01)
                    try:
                        if s.recv(1) != b"":
                            return False
                    except socket.timeout:
                        return False
                    except OSError:
                        pass
                return True

            self.assertTrue(wait_until(all_closed, timeout=6.0))
            self.assertIn("event=tls-handshake-timeout", server.log())
            for s in socks:
                s.close()

            # A data connection that never says ClientHello: the transfer fails within the
            # handshake time-out, with the reply a client understands, and no spinning meanwhile.
            with open(os.path.join(server.root, "stall.txt"), "wb") as f:
                f.write(b"never sent\n")
            ftp = ReusingFTP_TLS(context=self.context, timeout=TIMEOUT)
            ftp.connect("localhost", server.port)
            ftp.login(USER, PASSWORD)
            ftp.prot_p()
            host, port = ftplib.parse227(ftp.sendcmd("PASV"))
            with socket.create_connection((host, port), timeout=TIMEOUT):
                ftp.putcmd("RETR stall.txt")
                self.assertTrue(ftp.getresp().startswith("150"))
                started = time.monotonic()
                before = cpu_seconds(server.proc.pid)
                with self.assertRaises(ftplib.error_perm) as e:
                    ftp.getresp()
                self.assertTrue(str(e.exception).startswith("522"), str(e.exception))
                self.assertLess(time.monotonic() - started, 6.0)
                self.assertLess(cpu_seconds(server.proc.pid) - before, 0.3)
            self.assertTrue(ftp.sendcmd("NOOP").startswith("200"))
            ftp.quit()
        finally:
            server.stop(check=True)

    def test_required_levels_refuse_with_a_reason(self):
        server = FtpsServer(self.cert, self.key, extra=["--tls", "required-data"])
        try:
            plain = ftplib.FTP(timeout=TIMEOUT)
            plain.connect("127.0.0.1", server.port)
            with self.assertRaises(ftplib.error_perm) as e:
                plain.login(USER, PASSWORD)
            self.assertTrue(str(e.exception).startswith("530"))
            self.assertIn("AUTH TLS", str(e.exception))
            plain.close()
            ftp = ReusingFTP_TLS(context=self.context, timeout=TIMEOUT)
            ftp.connect("localhost", server.port)
            ftp.login(USER, PASSWORD)
            ftp.prot_c()
            with self.assertRaises(ftplib.error_perm) as e:
                ftp.nlst()
            self.assertTrue(str(e.exception).startswith("521"))
            ftp.prot_p()
            self.assertEqual(ftp.nlst(), [])
            ftp.quit()
        finally:
            server.stop(check=True)

    def test_no_reuse_option_lets_stock_ftplib_through(self):
        server = FtpsServer(self.cert, self.key, extra=["--tls-no-reuse"])
        try:
            with open(os.path.join(server.root, "x.txt"), "wb") as f:
                f.write(b"x\n")
            ftp = ftplib.FTP_TLS(context=self.context, timeout=TIMEOUT)
            ftp.connect("localhost", server.port)
            ftp.login(USER, PASSWORD)
            ftp.prot_p()
            got = io.BytesIO()
            ftp.retrbinary("RETR x.txt", got.write)
            self.assertEqual(got.getvalue(), b"x\n")
            ftp.quit()
        finally:
            server.stop(check=True)

    def test_the_log_says_whether_kernel_tls_could_be_used(self):
        # kTLS needs the kernel's "tls" ULP; the start-up log names what this kernel has, so an
        # operator sees why transfers under PROT P are encrypted in user space.
        try:
            with open("/proc/sys/net/ipv4/tcp_available_ulp") as f:
                has_tls = "tls" in f.read().split()
        except OSError:
            has_tls = False
        expected = "has-tls-ulp" if has_tls else "no-tls-ulp"
        self.assertTrue(wait_until(lambda: "event=ktls" in self.server.log()), self.server.log())
        self.assertIn(f"event=ktls result=off kernel={expected}", self.server.log())

    def test_sighup_serves_the_rotated_certificate(self):
        folder = tempfile.mkdtemp(prefix="nm-ftps-rot-")
        cert = os.path.join(folder, "live.pem")
        key = os.path.join(folder, "live.key")
        shutil.copy(self.cert, cert)
        shutil.copy(self.key, key)
        server = FtpsServer(cert, key)
        try:
            def subject():
                r = subprocess.run(["openssl", "s_client", "-starttls", "ftp", "-connect",
                                    f"127.0.0.1:{server.port}"], input=b"QUIT\r\n",
                                   capture_output=True, timeout=30)
                m = re.search(rb"subject=(.*)", r.stdout)
                return m.group(1).decode() if m else ""

            self.assertIn("localhost", subject())
            new_cert, new_key = make_certificate(folder, "new", "rotated.example")
            # Rotated in place, as a deploy script copying the renewed files would.
            for src, dst in ((new_cert, cert), (new_key, key)):
                with open(src, "rb") as f, open(dst, "wb") as out:
                    out.write(f.read())
            os.kill(server.proc.pid, signal.SIGHUP)
            self.assertTrue(wait_until(lambda: "rotated.example" in subject(), timeout=5))
            self.assertIn("event=tls-reloaded", server.log())
        finally:
            server.stop(check=True)
            shutil.rmtree(folder, ignore_errors=True)


def main():
    with tempfile.TemporaryDirectory() as d:
        cert, key = make_certificate(d, "probe")
        return run_tests(lambda: FtpsServer(cert, key))


if __name__ == "__main__":
    sys.exit(main())
