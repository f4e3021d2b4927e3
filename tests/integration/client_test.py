#!/usr/bin/python3
"""Integration tests of `netmodels ftp`, the FTP client, against a real server.

    client_test.py --server vsftpd      Debian's vsftpd, configured and started here
    client_test.py --server netmodels   netmodels' own server, model $NETMODELS_SERVER_MODEL

The interactive prompt is driven through a pseudo-terminal as a person would use it; the scripted
and URL forms are checked for their output, exit status and the files' checksums.
Exit status 77 means "skipped" (no vsftpd, or no model asked for).
"""

import argparse
import contextlib
import fcntl
import hashlib
import os
import queue
import re
import select
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import unittest

from netmodels_server import make_certificate

SKIP = 77
BIN = os.environ.get("NETMODELS_BIN", "netmodels")
RUN_TIMEOUT = 30
SERVER = None  # the running server, set by main()
ARGS = None  # the command line: which server to test against


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(host, port, proc, deadline=10):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not listen on {host}:{port}")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def stop(proc):
    """Stops a process we started, by its pid."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def fill_root(root):
    """The files every server offers; `pub` is where the tests write."""
    with open(os.path.join(root, "hello.txt"), "w") as f:
        f.write("hello, world\n")
    with open(os.path.join(root, "with space.txt"), "w") as f:
        f.write("spaces are fine\n")
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(os.urandom(6 * 1024 * 1024))
    os.mkdir(os.path.join(root, "empty"))
    os.mkdir(os.path.join(root, "pub"))


class Vsftpd:
    """vsftpd on loopback, anonymous, with uploads allowed in pub/."""

    # vsftpd refuses a writable anonymous root, so the root is read-only and pub/ is writable.
    CONFIG = """\
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port={port}
background=NO
seccomp_sandbox=NO
run_as_launching_user=YES
anonymous_enable=YES
local_enable=NO
anon_root={root}
no_anon_password=YES
write_enable=YES
anon_upload_enable=YES
anon_mkdir_write_enable=YES
anon_other_write_enable=YES
anon_world_readable_only=NO
anon_umask=022
pasv_enable=YES
port_enable=YES
connect_from_port_20=NO
xferlog_enable=YES
vsftpd_log_file={tmp}/vsftpd.log
dual_log_enable=NO
check_shell=NO
"""

    def __init__(self, tmp, ipv6=False):
        exe = shutil.which("vsftpd") or "/usr/sbin/vsftpd"
        if not os.path.exists(exe):
            raise FileNotFoundError("vsftpd is not installed (apt-get install vsftpd)")
        self.root = os.path.join(tmp, "root")
        os.mkdir(self.root)
        fill_root(self.root)
        os.chmod(os.path.join(self.root, "pub"), 0o777)
        os.chmod(os.path.join(self.root, "empty"), 0o555)
        os.chmod(self.root, 0o555)
        self.host, self.port = ("::1" if ipv6 else "127.0.0.1"), free_port()
        config = os.path.join(tmp, "vsftpd.conf")
        text = self.CONFIG.format(port=self.port, root=self.root, tmp=tmp)
        if ipv6:
            # vsftpd listens on one family at a time.
            text = text.replace("listen=YES", "listen=NO").replace("listen_ipv6=NO", "listen_ipv6=YES")
            text = text.replace("listen_address=127.0.0.1", "listen_address6=::1")
        with open(config, "w") as f:
            f.write(self.config_text(text))
        self.proc = subprocess.Popen([exe, config], stdin=subprocess.DEVNULL)
        wait_for_port(self.host, self.port, self.proc)
        self.login = ""  # anonymous
        self.name = "vsftpd"

    def config_text(self, text):
        return text

    def stop(self):
        stop(self.proc)
        os.chmod(self.root, 0o755)


class TlsVsftpd(Vsftpd):
    """vsftpd with TLS that it insists on (logins, data, and session reuse on data connections,
    as servers hardened against data-connection theft are set up); `implicit` for ftps://.
    Debian 12's vsftpd (3.0.3) has no ssl_tlsv1_2 option: it offers what OpenSSL offers (TLS
    1.2 and 1.3), and its default cipher list (DES-CBC3-SHA) is one OpenSSL 3 refuses."""

    TLS = """\
ssl_enable=YES
allow_anon_ssl=YES
force_anon_logins_ssl=YES
force_anon_data_ssl=YES
force_local_logins_ssl=YES
force_local_data_ssl=YES
require_ssl_reuse=YES
ssl_ciphers=HIGH
rsa_cert_file={cert}
rsa_private_key_file={key}
"""

    def __init__(self, tmp, cert, key, implicit=False):
        self.extra = self.TLS.format(cert=cert, key=key) + ("implicit_ssl=YES\n" if implicit else "")
        super().__init__(tmp)
        self.name = "vsftpd with implicit TLS" if implicit else "vsftpd with TLS"

    def config_text(self, text):
        return text + self.extra


class NetmodelsServer:
    """netmodels' own FTP server, user alice:secret."""

    def __init__(self, tmp, model, ipv6=False, extra_args=(), port=0):
        """`port` 0 lets the server choose one; a TLS run gives it, since the server may say
        "listening on" for its implicit-TLS listener first."""
        self.root = os.path.join(tmp, "root")
        os.mkdir(self.root)
        fill_root(self.root)
        listen = f"[::1]:{port}" if ipv6 else f"127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [BIN, "serve", "--service", "ftp", "--model", model, "--listen", listen,
             "--root", self.root, "--user", "alice:secret", *extra_args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stderr_lines = []
        self._stderr_thread = threading.Thread(target=self._keep_stderr, daemon=True)
        self._stderr_thread.start()
        line = self._read_listening_line()
        m = re.search(r"listening on (\S+):(\d+)", line)
        if not m:
            stop(self.proc)
            raise RuntimeError(f"unexpected first line from the server: {line!r}")
        self.host, self.port = m.group(1).strip("[]"), port or int(m.group(2))
        wait_for_port(self.host, self.port, self.proc)
        self.login = "alice:secret@"
        self.name = f"netmodels ({model})"

    def _keep_stderr(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line)
            sys.stderr.write(line)

    def _read_listening_line(self):
        """The server's "listening on HOST:PORT" line, whatever it logs before it. A thread keeps
        reading its stdout afterwards, so that a talkative server never blocks on a full pipe."""
        lines = queue.Queue()

        def pump():
            for line in self.proc.stdout:
                lines.put(line)
            lines.put("")

        threading.Thread(target=pump, daemon=True).start()
        end = time.monotonic() + 10
        while True:
            try:
                line = lines.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                line = ""
            if not line or "listening on" in line:
                break
        if not line:
            stop(self.proc)
            self._stderr_thread.join(10)
            if any("is not available" in x for x in self.stderr_lines):
                raise ModelUnavailable("".join(self.stderr_lines))
            raise RuntimeError("the server did not say where it listens")
        return line

    def stop(self):
        stop(self.proc)


class TlsServers:
    """The servers of a TLS run, with one self-signed certificate for localhost: `explicit`
    (ftpes://, and ftp:// where the FEAT offers AUTH TLS) and `implicit` (ftps:// on
    `implicit_port`). Both are vsftpd, or one netmodels server listening for both."""

    def __init__(self, tmp, kind):
        self.cert, key = make_certificate(tmp)
        self.servers = []
        try:
            if kind == "vsftpd":
                for name, implicit in (("explicit", False), ("implicit", True)):
                    folder = os.path.join(tmp, name)
                    os.mkdir(folder)
                    self.servers.append(TlsVsftpd(folder, self.cert, key, implicit))
                self.explicit, self.implicit = self.servers
            else:
                # The implicit-TLS listener came after the rest of the server's TLS.
                port = free_port() if "--implicit-tls" in serve_help() else None
                implicit = ["--implicit-tls", f"127.0.0.1:{port}"] if port else []
                server = NetmodelsServer(
                    tmp, os.environ["NETMODELS_SERVER_MODEL"], port=free_port(),
                    extra_args=["--tls-cert", self.cert, "--tls-key", key, "--tls", "required",
                                *implicit])
                self.servers.append(server)
                self.explicit, self.implicit = server, server if port else None
                if port:
                    server.port_implicit = port
                    wait_for_port("127.0.0.1", port, server.proc)
        except BaseException:
            self.stop()
            raise
        self.implicit_port = getattr(self.implicit, "port_implicit",
                                     self.implicit.port if self.implicit else None)
        self.login = self.explicit.login
        self.name = " and ".join(server.name for server in self.servers) + " (TLS)"
        self.host, self.port = self.explicit.host, self.explicit.port

    def stop(self):
        for server in self.servers:
            server.stop()


class ModelUnavailable(Exception):
    """The server said its model cannot run on this machine (io_uring disabled, say)."""


def run(args, cwd, stdin_text=None, timeout=RUN_TIMEOUT, env=None):
    return subprocess.run([BIN, "ftp", *args], cwd=cwd, input=stdin_text or "",
                          capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


class Terminal:
    """The client on a pseudo-terminal: type lines, read the screen."""

    ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\x07")

    def __init__(self, args, cwd, env=None):
        self.master, slave = os.openpty()
        # A wide screen, so the progress bar has room.
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        full_env = dict(os.environ, TERM="xterm", HOME=cwd, **(env or {}))
        # A session of its own with the pty as controlling terminal, for the password prompt.
        self.proc = subprocess.Popen(
            [BIN, "ftp", *args], cwd=cwd, env=full_env, stdin=slave, stdout=slave, stderr=slave,
            start_new_session=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        os.close(slave)
        self.screen = ""
        self.mark = 0

    def read(self, timeout=0.2):
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            ready, _, _ = select.select([self.master], [], [], left)
            if not ready:
                return
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the client closed the terminal
                return
            if not data:
                return
            self.screen += self.ANSI.sub("", data.decode("utf-8", "replace"))

    def expect(self, pattern, timeout=15):
        """Waits for `pattern` after the last match; returns the text up to it."""
        end = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.screen[self.mark:])
            if m:
                text = self.screen[self.mark:self.mark + m.end()]
                self.mark += m.end()
                return text
            if time.monotonic() > end:
                raise AssertionError(
                    f"{pattern!r} not on the screen; after the last match:\n"
                    f"{self.screen[self.mark:]}")
            self.read(0.1)

    def type(self, text):
        os.write(self.master, text.encode())

    def line(self, text):
        self.type(text + "\r")

    def wait(self, timeout=10):
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self.read(0.1)

    def close(self):
        stop(self.proc)
        os.close(self.master)


class ClientTestCase(unittest.TestCase):
    def setUp(self):
        self.local = tempfile.mkdtemp(prefix="nm-client-local-")
        self.server = SERVER
        self.addr = f"{SERVER.login}{SERVER.host}:{SERVER.port}"
        self.url = f"ftp://{SERVER.login}{SERVER.host}:{SERVER.port}"

    def tearDown(self):
        shutil.rmtree(self.local, ignore_errors=True)
        pub = os.path.join(self.server.root, "pub")
        for name in os.listdir(pub):
            path = os.path.join(pub, name)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)

    def remote(self, *parts):
        return os.path.join(self.server.root, *parts)

    def make_local(self, name, data):
        path = os.path.join(self.local, name)
        with open(path, "wb") as f:
            f.write(data)
        return path


class InteractiveTest(ClientTestCase):
    def start(self, args=None, env=None):
        term = Terminal(args or [self.addr], self.local, env)
        self.addCleanup(term.close)
        term.expect(r"Type help")
        term.expect(r"ftp> ")
        return term

    def test_the_menu_list_get_put_quit(self):
        upload = os.urandom(300 * 1024)
        self.make_local("upload.bin", upload)
        term = self.start()

        term.line("list")
        listed = term.expect(r"ftp> ")
        for name in ("hello.txt", "big.bin", "with space.txt", "pub"):
            self.assertIn(name, listed)

        term.line("get hello.txt")
        self.assertIn("Downloaded hello.txt", term.expect(r"ftp> "))
        self.assertEqual(sha256(os.path.join(self.local, "hello.txt")),
                         sha256(self.remote("hello.txt")))

        term.line('get "with space.txt" copy.txt')
        term.expect(r"ftp> ")
        self.assertEqual(sha256(os.path.join(self.local, "copy.txt")),
                         sha256(self.remote("with space.txt")))

        term.line("get missing.txt")
        said = term.expect(r"ftp> ")
        self.assertIn("missing.txt does not exist", said)
        self.assertRegex(said, r"55\d ")  # the server's own reply
        self.assertFalse(os.path.exists(os.path.join(self.local, "missing.txt")))
        self.assertFalse(os.path.exists(os.path.join(self.local, ".missing.txt.part")))

        term.line("cd pub")
        term.expect(r"ftp> ")
        term.line("put upload.bin")
        self.assertIn("Uploaded upload.bin", term.expect(r"ftp> "))
        self.assertEqual(sha256(self.remote("pub", "upload.bin")),
                         hashlib.sha256(upload).hexdigest())

        term.line("quit")
        said = term.expect(r"Goodbye")
        term.expect(r"thank you")
        self.assertEqual(term.wait(), 0, said)

    def test_empty_folder_is_an_empty_library(self):
        term = self.start()
        term.line("cd empty")
        term.expect(r"ftp> ")
        term.line("list")
        self.assertIn("The file library is empty", term.expect(r"ftp> "))
        term.line("quit")
        term.expect("Goodbye")
        self.assertEqual(term.wait(), 0)

    def test_errors_show_the_reply_and_the_session_goes_on(self):
        term = self.start()
        term.line("cd no-such-folder")
        self.assertRegex(term.expect(r"ftp> "), r"cd: 5\d\d ")
        term.line("frobnicate")
        self.assertIn("unknown command", term.expect(r"ftp> "))
        term.line("get")
        self.assertIn("usage: get", term.expect(r"ftp> "))
        term.line("pwd")
        self.assertIn("/", term.expect(r"ftp> "))
        term.line("help")
        said = term.expect(r"ftp> ")
        for command in ("list", "get", "put", "quit", "rename", "passive"):
            self.assertIn(command, said)
        term.line("quit")
        term.expect("Goodbye")
        self.assertEqual(term.wait(), 0)

    def test_progress_bar_on_a_terminal(self):
        term = self.start()
        term.line("get big.bin")
        said = term.expect(r"ftp> ", timeout=30)
        self.assertIn("100%", said)
        self.assertIn("ETA", said)
        self.assertRegex(said, r"/s")
        self.assertEqual(sha256(os.path.join(self.local, "big.bin")), sha256(self.remote("big.bin")))
        term.line("quit")
        self.assertEqual(term.wait(), 0)

    def test_tab_completion(self):
        # libedit redraws the completed line with cursor moves, so the test checks what the
        # completed line did rather than how it was drawn.
        term = self.start()
        term.type("he\t")
        term.read(0.5)
        term.line("")
        self.assertIn("help [COMMAND]", term.expect(r"ftp> "))
        # Remote names come from the server's NLST of the working folder.
        term.type("get hel\t")
        term.read(0.5)
        term.line("")
        self.assertIn("Downloaded hello.txt", term.expect(r"ftp> "))
        term.type("get \"with\t")
        term.read(0.5)
        term.line("")
        term.expect(r"ftp> ")
        self.assertTrue(os.path.exists(os.path.join(self.local, "with space.txt")))
        # Unquoted, the completion escapes the blank.
        term.type("size wit\t")
        term.read(0.5)
        term.line("")
        self.assertIn("with space.txt: 16 bytes", term.expect(r"ftp> "))
        term.line("quit")
        self.assertEqual(term.wait(), 0)

    def test_a_folder_gets_a_progress_bar_per_file_and_a_total(self):
        tree = self.remote("pub", "tree")
        os.makedirs(os.path.join(tree, "sub"))
        for name, size in (("one.bin", 2 * 1024 * 1024), ("sub/two.bin", 1024 * 1024)):
            with open(os.path.join(tree, name), "wb") as f:
                f.write(os.urandom(size))
        term = self.start()
        term.line("get -r pub/tree")
        said = term.expect(r"ftp> ", timeout=30)
        self.assertEqual(said.count("100%"), 2, said)
        self.assertIn("Downloaded 2 files: 3.0 MiB", said)
        for name in ("one.bin", "sub/two.bin"):
            self.assertEqual(sha256(os.path.join(self.local, "tree", name)),
                             sha256(os.path.join(tree, name)))
        term.line("quit")
        self.assertEqual(term.wait(), 0)

    def test_end_of_input_says_goodbye(self):
        term = self.start()
        term.type("\x04")
        term.expect("Goodbye")
        self.assertEqual(term.wait(), 0)


class ScriptedTest(ClientTestCase):
    def test_commands_from_the_command_line(self):
        upload = os.urandom(200 * 1024)
        self.make_local("b.bin", upload)
        r = run([self.addr, "-c", "get hello.txt", "-c", "cd pub", "-c", "put b.bin",
                 "-c", "list"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("b.bin", r.stdout)
        self.assertNotIn("ETA", r.stdout + r.stderr)  # no progress bar off a terminal
        self.assertEqual(sha256(os.path.join(self.local, "hello.txt")),
                         sha256(self.remote("hello.txt")))
        self.assertEqual(sha256(self.remote("pub", "b.bin")), hashlib.sha256(upload).hexdigest())

    def test_a_failing_command_fails_the_run(self):
        r = run([self.addr, "-c", "get nothing-here.txt", "-c", "get hello.txt"], self.local)
        self.assertEqual(r.returncode, 1)
        self.assertIn("nothing-here.txt does not exist", r.stderr)
        self.assertRegex(r.stderr, r"5\d\d ")
        # The session went on after the failure.
        self.assertTrue(os.path.exists(os.path.join(self.local, "hello.txt")))

    def test_commands_from_stdin(self):
        self.make_local("s.txt", b"from stdin\n")
        script = "cd pub\nput s.txt\nmkdir sub\nrename s.txt sub/t.txt\nls sub\nsize sub/t.txt\n"
        r = run([self.addr], self.local, stdin_text=script)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("t.txt", r.stdout)
        self.assertIn("sub/t.txt: 11 bytes", r.stdout)
        with open(self.remote("pub", "sub", "t.txt"), "rb") as f:
            self.assertEqual(f.read(), b"from stdin\n")
        r = run([self.addr], self.local, stdin_text="cd pub\nrm sub/t.txt\nrmdir sub\nlist\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("The file library is empty", r.stdout)

    def test_names_with_spaces(self):
        self.make_local("my file.txt", b"a name with a space\n")
        r = run([self.addr, "-c", "cd pub", "-c", 'put "my file.txt"', "-c",
                 "get 'my file.txt' 'back again.txt'"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sha256(self.remote("pub", "my file.txt")),
                         sha256(os.path.join(self.local, "back again.txt")))

    def test_active_mode(self):
        self.make_local("act.bin", os.urandom(100 * 1024))
        r = run([self.addr, "-c", "active", "-c", "get big.bin", "-c", "cd pub",
                 "-c", "put act.bin", "-c", "list"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sha256(os.path.join(self.local, "big.bin")), sha256(self.remote("big.bin")))
        self.assertEqual(sha256(self.remote("pub", "act.bin")),
                         sha256(os.path.join(self.local, "act.bin")))

    def test_resume_download_and_upload(self):
        big = self.remote("big.bin")
        with open(big, "rb") as f:
            data = f.read()
        # A download cut in the middle left its partial file.
        self.make_local(".big.bin.part", data[:1234567])
        r = run([self.addr, "-c", "get -c big.bin"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1234567 already there", r.stdout)
        self.assertEqual(sha256(os.path.join(self.local, "big.bin")), sha256(big))
        self.assertFalse(os.path.exists(os.path.join(self.local, ".big.bin.part")))

        # An upload cut in the middle left the first part on the server.
        self.make_local("up.bin", data)
        with open(self.remote("pub", "up.bin"), "wb") as f:
            f.write(data[:777777])
        os.chmod(self.remote("pub", "up.bin"), 0o666)
        r = run([self.addr, "-c", "cd pub", "-c", "put -c up.bin"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("777777 already there", r.stdout)
        self.assertEqual(sha256(self.remote("pub", "up.bin")), sha256(big))

    def test_ascii_mode_converts_line_endings(self):
        self.make_local("unix.txt", b"one\ntwo\n")
        r = run([self.addr, "-c", "cd pub", "-c", "ascii", "-c", "put unix.txt",
                 "-c", "get unix.txt back.txt"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.local, "back.txt"), "rb") as f:
            self.assertEqual(f.read(), b"one\ntwo\n")


    def test_verify_compares_with_the_servers_hash(self):
        if not self.server.name.startswith("netmodels"):
            # vsftpd has no HASH: verify says so and fails, rather than claiming a match.
            self.make_local("hello.txt", b"hello, world\n")
            r = run([self.addr, "-c", "verify hello.txt"], self.local)
            self.assertEqual(r.returncode, 1, r.stdout)
            self.assertIn("the server has no HASH command", r.stderr)
            return
        r = run([self.addr, "-c", "get big.bin", "-c", "verify big.bin"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"big.bin: matches the server's big.bin (SHA-256 {sha256(self.remote('big.bin'))})",
                      r.stdout)
        # One byte changed locally, and a remote name of its own.
        self.make_local("mine.txt", b"hello, world!\n")
        r = run([self.addr, "-c", "verify mine.txt hello.txt"], self.local)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertRegex(r.stderr, r"mine.txt DIFFERS from the server's hello.txt: SHA-256 local "
                                   r"[0-9a-f]{64}, server " + sha256(self.remote("hello.txt")))
        r = run([self.addr, "-c", "verify mine.txt nothing-here.txt"], self.local)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"55\d ")


class BatchTest(ClientTestCase):
    """mget / mput with shell patterns, get -r / put -r for folders, -c across them."""

    def remote_file(self, name, data):
        path = self.remote("pub", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o666)
        return path

    def test_mget_matches_patterns_on_the_client(self):
        for name in ("a.log", "b.log", "c.txt", ".hidden.log", "sub/d.log"):
            self.remote_file(name, os.urandom(1000))
        r = run([self.addr, "-c", "cd pub", "-c", "mget *.log"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Downloaded 2 files", r.stdout)
        # Like a shell: no dotfiles for *, no folders, no descent.
        self.assertEqual(sorted(os.listdir(self.local)), ["a.log", "b.log"])
        for name in ("a.log", "b.log"):
            self.assertEqual(sha256(os.path.join(self.local, name)), sha256(self.remote("pub", name)))
        os.remove(os.path.join(self.local, "a.log"))
        # The server is never sent a pattern: the listing is matched here.
        r = run(["-v", self.addr, "-c", "mget pub/[ac].*"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        sent = [line for line in r.stderr.splitlines() if line.startswith("-->")]
        self.assertFalse([line for line in sent if "[" in line or "*" in line.replace("****", "")],
                         sent)
        self.assertTrue(os.path.exists(os.path.join(self.local, "a.log")))
        self.assertTrue(os.path.exists(os.path.join(self.local, "c.txt")))
        r = run([self.addr, "-c", "mget pub/*.zip"], self.local)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no remote file matches pub/*.zip", r.stderr)

    def test_mput_globs_local_files(self):
        for name in ("x1.dat", "x2.dat", "y.txt"):
            self.make_local(name, os.urandom(20000))
        os.mkdir(os.path.join(self.local, "xdir.dat"))
        r = run([self.addr, "-c", "cd pub", "-c", "mput x*.dat"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Uploaded 2 files", r.stdout)
        self.assertEqual(sorted(os.listdir(self.remote("pub"))), ["x1.dat", "x2.dat"])
        for name in ("x1.dat", "x2.dat"):
            self.assertEqual(sha256(self.remote("pub", name)), sha256(os.path.join(self.local, name)))
        r = run([self.addr, "-c", "cd pub", "-c", "mput *.none"], self.local)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no local file matches *.none", r.stderr)

    def test_folders_up_and_down_and_resumed(self):
        files = {"a.bin": 300 * 1024, "sub/b.txt": 10, "sub/deeper/c.bin": 1024 * 1024}
        for name, size in files.items():
            path = os.path.join(self.local, "tree", name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(os.urandom(size))
        r = run([self.addr, "-c", "put -r tree pub/tree"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Uploaded 3 files", r.stdout)
        for name in files:
            self.assertEqual(sha256(self.remote("pub", "tree", name)),
                             sha256(os.path.join(self.local, "tree", name)))

        r = run([self.addr, "-c", "get -r pub/tree back"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Downloaded 3 files", r.stdout)
        for name in files:
            self.assertEqual(sha256(os.path.join(self.local, "back", name)),
                             sha256(os.path.join(self.local, "tree", name)))

        # A cut download: one file partly there, the others whole.
        deep = os.path.join(self.local, "back", "sub", "deeper")
        with open(os.path.join(deep, "c.bin"), "rb") as f:
            head = f.read(4096)
        os.remove(os.path.join(deep, "c.bin"))
        with open(os.path.join(deep, ".c.bin.part"), "wb") as f:
            f.write(head)
        r = run([self.addr, "-c", "get -rc pub/tree back"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("4096 already there", r.stdout)
        self.assertIn("Downloaded 1 file:", r.stdout)
        self.assertIn("2 already complete", r.stdout)
        self.assertEqual(sha256(os.path.join(deep, "c.bin")),
                         sha256(os.path.join(self.local, "tree", "sub", "deeper", "c.bin")))

        # A cut upload.
        with open(self.remote("pub", "tree", "a.bin"), "r+b") as f:
            f.truncate(5000)
        r = run([self.addr, "-c", "put -rc tree pub/tree"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("5000 already there", r.stdout)
        self.assertEqual(sha256(self.remote("pub", "tree", "a.bin")),
                         sha256(os.path.join(self.local, "tree", "a.bin")))

        # A file is not a folder, on either side.
        r = run([self.addr, "-c", "get -r hello.txt", "-c", "put -r tree/a.bin pub/x"], self.local)
        self.assertEqual(r.returncode, 1)
        self.assertIn("hello.txt: not a remote folder", r.stderr)
        self.assertIn("tree/a.bin: not a local folder", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.local, "hello.txt")))

    def test_local_commands_and_quote(self):
        self.make_local("mark.txt", b"x")
        r = run([self.addr, "-c", "lls", "-c", "!echo shell-says-$((6*7))", "-c", "quote SYST",
                 "-c", "quote NOOP", "-c", "hash"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("mark.txt", r.stdout)
        self.assertIn("shell-says-42", r.stdout)
        self.assertRegex(r.stdout, r"(?m)^215 ")
        self.assertRegex(r.stdout, r"(?m)^200 ")
        self.assertIn("progress bar", r.stdout)
        r = run([self.addr, "-c", "quote LIST", "-c", "!exit 3"], self.local)
        self.assertEqual(r.returncode, 1)
        self.assertIn("LIST needs a data connection", r.stderr)
        r = run([self.addr, "-c", "quote FROB"], self.local)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stdout, r"(?m)^50\d ")


class NetrcTest(ClientTestCase):
    def write_netrc(self, text, mode, name="netrc"):
        path = os.path.join(self.local, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def test_the_netrc_gives_the_login(self):
        if not self.server.login:
            self.skipTest("the server takes anonymous logins, whatever the password")
        user, password = self.server.login.rstrip("@").split(":")
        host = f"{self.server.host}:{self.server.port}"
        netrc = (f"machine elsewhere login x password y\n"
                 f"machine {self.server.host} login {user} password {password}\n")
        path = self.write_netrc(netrc, 0o600)
        r = run(["--netrc-file", path, host, "-c", "pwd"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        # ~/.netrc by default; a wrong password there shows it was read.
        self.write_netrc(netrc.replace(password, "wrong"), 0o600, ".netrc")
        r = run([host, "-c", "pwd"], self.local, env={"HOME": self.local})
        self.assertEqual(r.returncode, 1)
        self.assertIn("login failed: 530", r.stderr)
        # A password on the command line wins.
        r = run([self.addr, "-c", "pwd"], self.local, env={"HOME": self.local})
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_a_netrc_others_can_read_is_refused(self):
        path = self.write_netrc(f"machine {self.server.host} login a password b\n", 0o644)
        r = run(["--netrc-file", path, f"{self.server.host}:{self.server.port}", "-c", "pwd"],
                self.local)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{path} is not used: group or others may read it (mode 0644)", r.stderr)
        self.assertIn("chmod 600", r.stderr)
        # ~/.netrc: said, and left alone (the login goes on as if there were none).
        self.write_netrc(f"machine {self.server.host} login a password b\n", 0o640, ".netrc")
        r = run(["-v", f"{self.server.host}:{self.server.port}", "-c", "pwd"], self.local,
                env={"HOME": self.local})
        self.assertIn(".netrc is not used: group or others may read it (mode 0640)", r.stderr)
        self.assertIn("--> USER anonymous", r.stderr)


class UrlTest(ClientTestCase):
    def test_get_url(self):
        r = run(["get", f"{self.url}/hello.txt", "h.txt"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sha256(os.path.join(self.local, "h.txt")), sha256(self.remote("hello.txt")))

    def test_get_url_percent_decoded_to_stdout(self):
        r = run(["get", f"{self.url}/with%20space.txt", "-"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "spaces are fine\n")

    def test_put_url_and_ls_url(self):
        path = self.make_local("u p.bin", os.urandom(50000))
        r = run(["put", path, f"{self.url}/pub/"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sha256(self.remote("pub", "u p.bin")), sha256(path))
        r = run(["put", path, f"{self.url}/pub/renamed%20here.bin"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sha256(self.remote("pub", "renamed here.bin")), sha256(path))
        r = run(["ls", f"{self.url}/pub/"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("u p.bin", r.stdout)
        self.assertIn("renamed here.bin", r.stdout)

    def test_url_errors(self):
        r = run(["get", f"{self.url}/missing.bin"], self.local)
        self.assertEqual(r.returncode, 1)
        self.assertIn("does not exist", r.stderr)
        self.assertEqual(os.listdir(self.local), [])
        r = run(["get", "http://example.org/x"], self.local)
        self.assertEqual(r.returncode, 2)
        self.assertIn("not an ftp:// URL", r.stderr)


class Ipv6Test(unittest.TestCase):
    """EPSV and EPRT against a server on ::1."""

    def setUp(self):
        try:
            with socket.socket(socket.AF_INET6) as probe:
                probe.bind(("::1", 0))
        except OSError as e:
            self.skipTest(f"no IPv6 loopback: {e}")
        tmp = tempfile.mkdtemp(prefix="nm-client-v6-")
        self.addCleanup(unlock_and_remove, tmp)
        self.local = os.path.join(tmp, "local")
        os.mkdir(self.local)
        self.server = start_server(os.path.join(tmp, "server"), ipv6=True)
        self.addCleanup(self.server.stop)

    def test_passive_and_active_over_ipv6(self):
        addr = f"{self.server.login}[::1]:{self.server.port}"
        r = run([addr, "-c", "list", "-c", "get hello.txt", "-c", "active",
                 "-c", "get big.bin", "-c", "ls"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("hello.txt", r.stdout)
        for name in ("hello.txt", "big.bin"):
            self.assertEqual(sha256(os.path.join(self.local, name)),
                             sha256(os.path.join(self.server.root, name)))


class FakeServer:
    """A few lines of FTP, for what real servers make hard to stage."""

    def __init__(self, handler, family=socket.AF_INET, connections=1):
        self.sock = socket.socket(family)
        self.sock.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.connections = connections
        self.seen = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.sock.settimeout(20)
        for _ in range(self.connections):
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn, conn.makefile("rwb", buffering=0) as f:
                conn.settimeout(20)
                self.conn = conn  # for a handler that starts TLS on it
                self.handler(self, f)

    def close(self):
        self.sock.close()
        self.thread.join(timeout=5)


class FakeServerTest(unittest.TestCase):
    def setUp(self):
        self.local = tempfile.mkdtemp(prefix="nm-client-local-")
        self.addCleanup(shutil.rmtree, self.local, True)

    def test_password_is_asked_without_echo(self):
        def login(server, f):
            f.write(b"220-Fake server\r\n220 ready\r\n")
            for line in f:
                line = line.decode().strip()
                server.seen.append(line)
                if line.startswith("USER"):
                    f.write(b"331 Password please\r\n")
                elif line == "PASS s3cret!":
                    f.write(b"230 Welcome\r\n")
                elif line.startswith("TYPE"):
                    f.write(b"200 ok\r\n")
                elif line == "QUIT":
                    f.write(b"221 Bye\r\n")
                    return
                else:
                    f.write(b"530 no\r\n")

        server = FakeServer(login)
        self.addCleanup(server.close)
        term = Terminal([f"bob@127.0.0.1:{server.port}"], self.local)
        self.addCleanup(term.close)
        term.expect(r"Password for bob: ")
        term.line("s3cret!")
        term.expect(r"Logged in as bob")
        term.expect(r"ftp> ")
        self.assertNotIn("s3cret", term.screen)
        term.line("quit")
        term.expect("Goodbye")
        self.assertEqual(term.wait(), 0)
        self.assertIn("USER bob", server.seen)

    def test_ctrl_c_stops_a_transfer_and_the_session_goes_on(self):
        def drip(server, f):
            f.write(b"220 ready\r\n")
            data_listener = None
            for line in f:
                line = line.decode().strip()
                server.seen.append(line)
                verb = line.split(" ")[0]
                if verb == "USER":
                    f.write(b"230 in\r\n")
                elif verb in ("TYPE", "NOOP"):
                    f.write(b"200 ok\r\n")
                elif verb == "SIZE":
                    f.write(b"213 1000000\r\n")
                elif verb == "EPSV":
                    data_listener = socket.socket()
                    data_listener.bind(("127.0.0.1", 0))
                    data_listener.listen(1)
                    port = data_listener.getsockname()[1]
                    f.write(f"229 Extended Passive Mode (|||{port}|)\r\n".encode())
                elif verb == "RETR":
                    f.write(b"150 here it comes, slowly\r\n")
                    data_listener.settimeout(10)
                    data, _ = data_listener.accept()
                    data_listener.close()
                    data.sendall(b"x" * 1000)
                    data.settimeout(20)
                    try:
                        data.recv(1)  # until the client hangs up
                    except OSError:
                        pass
                    data.close()
                    f.write(b"426 Transfer aborted\r\n")
                elif verb == "PWD":
                    f.write(b'257 "/" is here\r\n')
                elif verb == "QUIT":
                    f.write(b"221 Bye\r\n")
                    return
                else:
                    f.write(b"502 not here\r\n")

        server = FakeServer(drip)
        self.addCleanup(server.close)
        term = Terminal([f"127.0.0.1:{server.port}"], self.local)
        self.addCleanup(term.close)
        term.expect(r"ftp> ")
        term.line("get slow.bin")
        term.expect(r"1000 B / 976\.6 KiB")  # the progress bar shows the first bytes
        term.type("\x03")
        said = term.expect(r"ftp> ")
        self.assertIn("get: interrupted", said)
        self.assertIn(".slow.bin.part", said)
        with open(os.path.join(self.local, ".slow.bin.part"), "rb") as f:
            self.assertEqual(len(f.read()), 1000)
        self.assertFalse(os.path.exists(os.path.join(self.local, "slow.bin")))
        term.line("pwd")
        self.assertIn("/", term.expect(r"ftp> "))
        term.line("quit")
        term.expect("Goodbye")
        self.assertEqual(term.wait(), 0)

    @staticmethod
    def lister(epsv):
        """Serves NLST over EPSV, or over PASV after refusing EPSV when `epsv` is false."""
        def handle(server, f):
            f.write(b"220 ready\r\n")
            data_listener = None
            for line in f:
                line = line.decode().strip()
                server.seen.append(line)
                verb = line.split(" ")[0]
                if verb == "USER":
                    f.write(b"230 in\r\n")
                elif verb == "TYPE":
                    f.write(b"200 ok\r\n")
                elif verb in ("EPSV", "PASV") and (verb == "EPSV") == epsv:
                    family = server.sock.family
                    data_listener = socket.socket(family)
                    data_listener.bind((server.sock.getsockname()[0], 0))
                    data_listener.listen(1)
                    port = data_listener.getsockname()[1]
                    if epsv:
                        f.write(f"229 Extended Passive Mode (|||{port}|)\r\n".encode())
                    else:
                        # An address the client must ignore in favour of the control peer's.
                        f.write(f"227 Passive (10,255,255,1,{port // 256},{port % 256})\r\n"
                                .encode())
                elif verb == "NLST":
                    f.write(b"150 names\r\n")
                    data_listener.settimeout(10)
                    data, _ = data_listener.accept()
                    data_listener.close()
                    data.sendall(b"a.txt\r\nb c.txt\r\n")
                    data.close()
                    f.write(b"226 done\r\n")
                elif verb == "QUIT":
                    f.write(b"221 Bye\r\n")
                    return
                else:
                    f.write(b"500 unknown\r\n")
        return handle

    def test_ipv6_and_epsv(self):
        try:
            server = FakeServer(self.lister(epsv=True), socket.AF_INET6)
        except OSError as e:
            self.skipTest(f"no IPv6 loopback: {e}")
        self.addCleanup(server.close)
        r = run([f"[::1]:{server.port}", "-c", "list"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "a.txt\nb c.txt\n")

    def test_pasv_when_epsv_is_refused(self):
        server = FakeServer(self.lister(epsv=False))
        self.addCleanup(server.close)
        r = run([f"127.0.0.1:{server.port}", "-c", "list", "-c", "list"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "a.txt\nb c.txt\n" * 2)
        # The refusal is remembered.
        self.assertEqual(server.seen.count("EPSV"), 1)
        self.assertEqual(server.seen.count("PASV"), 2)

    def test_a_dropped_connection_is_opened_again(self):
        def idle_timeout(server, f):
            f.write(b"220 ready\r\n")
            for line in f:
                line = line.decode().strip()
                server.seen.append(line)
                verb = line.split(" ")[0]
                if verb == "USER":
                    f.write(b"230 in\r\n")
                elif verb in ("TYPE", "CWD"):
                    f.write(b"200 ok\r\n" if verb == "TYPE" else b"250 ok\r\n")
                elif verb == "PWD":
                    f.write(b'257 "/docs" is here\r\n')
                    if server.seen.count("PWD") == 2:
                        f.write(b"421 Timeout.\r\n")
                        return
                elif verb == "QUIT":
                    f.write(b"221 Bye\r\n")
                    return
                else:
                    f.write(b"500 unknown\r\n")

        server = FakeServer(idle_timeout, connections=2)
        self.addCleanup(server.close)
        term = Terminal([f"127.0.0.1:{server.port}"], self.local)
        self.addCleanup(term.close)
        term.expect(r"ftp> ")
        term.line("cd docs")
        term.expect(r"Remote folder: /docs")
        term.expect(r"ftp> ")
        term.line("pwd")  # answered, then the server hangs up
        term.expect(r"ftp> ")
        term.line("pwd")
        said = term.expect(r"ftp> ")
        self.assertIn("421 Timeout", said)
        self.assertIn("connection to the server is lost", said)
        term.line("pwd")
        said = term.expect(r"ftp> ")
        self.assertIn("Reconnecting", said)
        self.assertIn("/docs", said)
        term.line("quit")
        term.expect("Goodbye")
        self.assertEqual(term.wait(), 0)
        # Back in the same folder, in the same mode.
        second_login = server.seen[server.seen.index("USER anonymous", 1):]
        self.assertIn("CWD /docs", second_login)
        self.assertIn("TYPE I", second_login)

    def test_a_silent_server_times_out(self):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # never accepted, never greets
        self.addCleanup(listener.close)
        started = time.monotonic()
        r = run(["--timeout", "1", f"127.0.0.1:{listener.getsockname()[1]}", "-c", "list"],
                self.local, timeout=15)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no answer within 1 s", r.stderr)
        self.assertLess(time.monotonic() - started, 10)

    def test_tls_follows_the_feat_the_scheme_and_the_flags(self):
        def maybe_tls(server, f):
            f.write(b"220 ready\r\n")
            for line in f:
                line = line.decode().strip()
                server.seen.append(line)
                verb = line.split(" ")[0]
                if verb == "FEAT":
                    feature = b" AUTH TLS\r\n" if server.offer else b" EPSV\r\n"
                    f.write(b"211-Features:\r\n" + feature + b"211 End\r\n")
                elif verb == "AUTH":
                    f.write(b"504 not today\r\n")
                elif verb == "USER":
                    f.write(b"230 in\r\n")
                elif verb == "TYPE":
                    f.write(b"200 ok\r\n")
                elif verb == "PWD":
                    f.write(b'257 "/" is here\r\n')
                elif verb == "QUIT":
                    f.write(b"221 Bye\r\n")
                    return
                else:
                    f.write(b"500 unknown\r\n")

        server = FakeServer(maybe_tls, connections=5)
        self.addCleanup(server.close)
        host = f"127.0.0.1:{server.port}"

        def session(*args, offer):
            server.offer = offer
            server.seen.clear()
            return run(["-v", *args, "-c", "pwd"], self.local)

        r = session(host, offer=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("No TLS: the server offers none", r.stderr)
        self.assertNotIn("AUTH TLS", server.seen)
        r = session(host, offer=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("No TLS: the server refused AUTH TLS: 504 not today", r.stderr)
        for required in ([f"ftpes://{host}"], ["--tls", host]):
            r = session(*required, offer=True)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("the server refuses TLS (AUTH TLS: 504 not today)", r.stderr)
            self.assertFalse(any(line.startswith("USER") for line in server.seen), server.seen)
        r = session("--no-tls", host, offer=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("No TLS (--no-tls)", r.stderr)
        self.assertFalse({"FEAT", "AUTH TLS"} & set(server.seen), server.seen)
        r = run(["--no-tls", f"ftpes://{host}", "-c", "pwd"], self.local)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--no-tls contradicts", r.stderr)

    def test_a_server_refusing_prot_p(self):
        """TLS on the control connection, but the server will not protect data connections:
        ftpes:// stops there, ftp:// goes on and says the data is in clear text."""
        if not shutil.which("openssl"):
            self.skipTest("the openssl command is needed to make a certificate")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*make_certificate(self.local))

        def no_prot(server, f):
            with contextlib.ExitStack() as tls:
                serve_no_prot(server, f, tls)

        def serve_no_prot(server, f, tls):
            f.write(b"220 ready\r\n")
            while line := f.readline():
                line = line.decode().strip()
                server.seen.append(line)
                verb = line.split(" ")[0]
                if verb == "FEAT":
                    f.write(b"211-Features:\r\n AUTH TLS\r\n211 End\r\n")
                elif line == "AUTH TLS":
                    f.write(b"234 go\r\n")
                    wrapped = tls.enter_context(context.wrap_socket(server.conn, server_side=True))
                    f = tls.enter_context(wrapped.makefile("rwb", buffering=0))
                elif verb == "USER":
                    f.write(b"230 in\r\n")
                elif verb in ("TYPE", "PBSZ"):
                    f.write(b"200 ok\r\n")
                elif verb == "PROT":
                    f.write(b"536 no protection here\r\n")
                elif verb == "PWD":
                    f.write(b'257 "/" is here\r\n')
                elif verb == "QUIT":
                    f.write(b"221 Bye\r\n")
                    return
                else:
                    f.write(b"500 unknown\r\n")

        server = FakeServer(no_prot, connections=2)
        self.addCleanup(server.close)
        r = run(["--insecure", f"ftpes://127.0.0.1:{server.port}", "-c", "pwd"], self.local)
        self.assertEqual(r.returncode, 1)
        self.assertIn("the server refuses to encrypt the data connections "
                      "(536 no protection here)", r.stderr)
        self.assertNotIn("PWD", server.seen)
        r = run(["--insecure", "-v", f"127.0.0.1:{server.port}", "-c", "pwd"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("commands are encrypted, data in clear text (the server refused PROT P: "
                      "536 no protection here)", r.stderr)

    def test_refused_connection(self):
        r = run([f"127.0.0.1:{free_port()}", "-c", "list"], self.local)
        self.assertEqual(r.returncode, 1)
        self.assertIn("refused", r.stderr)


class TlsTest(unittest.TestCase):
    """FTPS (RFC 4217): the certificate is checked, and files move intact over TLS, data
    connections included. Runs only with --server vsftpd-tls or netmodels-tls."""

    TLS = True

    def setUp(self):
        self.local = tempfile.mkdtemp(prefix="nm-client-local-")
        self.addCleanup(shutil.rmtree, self.local, True)
        self.cert = SERVER.cert
        self.root = SERVER.explicit.root
        # The certificate names localhost: that is the name the client must check.
        self.ftpes = f"ftpes://{SERVER.login}localhost:{SERVER.port}"
        self.ftps = f"ftps://{SERVER.login}localhost:{SERVER.implicit_port}"
        self.ca = ["--ca-file", self.cert]

    def tearDown(self):
        for server in SERVER.servers:
            pub = os.path.join(server.root, "pub")
            for name in os.listdir(pub):
                path = os.path.join(pub, name)
                shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)

    def local_path(self, name):
        return os.path.join(self.local, name)

    def assert_same(self, local_name, *remote, root=None):
        self.assertEqual(sha256(self.local_path(local_name)),
                         sha256(os.path.join(root or self.root, *remote)))

    def test_ls_get_put_over_ftpes(self):
        r = run([*self.ca, "ls", f"{self.ftpes}/"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        for name in ("hello.txt", "big.bin", "pub"):
            self.assertIn(name, r.stdout)
        r = run([*self.ca, "get", f"{self.ftpes}/big.bin", "big.bin"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_same("big.bin", "big.bin")
        self.make_local("up.bin", os.urandom(3 * 1024 * 1024 + 17))
        r = run([*self.ca, "put", self.local_path("up.bin"), f"{self.ftpes}/pub/"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_same("up.bin", "pub", "up.bin")

    def test_one_session_resumes_the_tls_session_on_every_data_connection(self):
        self.make_local("a.bin", os.urandom(500 * 1024))
        r = run([*self.ca, "-v", self.ftpes, "-c", "get hello.txt", "-c", "list", "-c", "active",
                 "-c", "get big.bin", "-c", "cd pub", "-c", "put a.bin"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stderr, r"Explicit TLS \(TLSv1\.[23], [^)]+\): commands and data "
                                   r"are encrypted")
        self.assertEqual(r.stderr.count("data connection: TLS session resumed"), 4, r.stderr)
        self.assertNotIn("not resumed", r.stderr)
        self.assertIn("PROT P", r.stderr)
        self.assert_same("hello.txt", "hello.txt")
        self.assert_same("big.bin", "big.bin")
        self.assert_same("a.bin", "pub", "a.bin")

    def test_resume_over_tls(self):
        with open(os.path.join(self.root, "big.bin"), "rb") as f:
            data = f.read()
        self.make_local(".big.bin.part", data[:2345678])
        r = run([*self.ca, self.ftpes, "-c", "get -c big.bin"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("2345678 already there", r.stdout)
        self.assert_same("big.bin", "big.bin")
        self.assertFalse(os.path.exists(self.local_path(".big.bin.part")))

        self.make_local("up.bin", data)
        with open(os.path.join(self.root, "pub", "up.bin"), "wb") as f:
            f.write(data[:999999])
        os.chmod(os.path.join(self.root, "pub", "up.bin"), 0o666)
        r = run([*self.ca, self.ftpes, "-c", "cd pub", "-c", "put -c up.bin"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("999999 already there", r.stdout)
        self.assert_same("up.bin", "pub", "up.bin")

    def test_an_untrusted_certificate_stops_before_any_transfer(self):
        plain = f"ftp://{SERVER.login}localhost:{SERVER.port}"
        for url in (self.ftpes, plain, self.ftps) if SERVER.implicit else (self.ftpes, plain):
            with self.subTest(url=url):
                r = run(["get", f"{url}/hello.txt"], self.local)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertRegex(r.stderr, r"certificate is not accepted for localhost: "
                                           r"self.signed certificate")
                self.assertIn("--ca-file", r.stderr)
                self.assertIn("--insecure", r.stderr)
                if url == plain:  # TLS only because the server offered it
                    self.assertIn("stay in clear text with --no-tls", r.stderr)
                self.assertEqual(os.listdir(self.local), [])

    def test_the_host_name_is_checked(self):
        # Trusted certificate, wrong name: it says localhost, the client asked for 127.0.0.1.
        r = run([*self.ca, "get", f"ftpes://{SERVER.login}127.0.0.1:{SERVER.port}/hello.txt"],
                self.local)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("not accepted for 127.0.0.1: IP address mismatch", r.stderr)
        self.assertEqual(os.listdir(self.local), [])

    def test_a_ca_file_without_certificates_is_an_error(self):
        not_pem = os.path.join(self.local, "notes.txt")
        with open(not_pem, "w") as f:
            f.write("not a certificate\n")
        r = run(["--ca-file", not_pem, "get", f"{self.ftpes}/hello.txt"], self.local)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"--ca-file {not_pem}: no certificate read", r.stderr)
        self.assertEqual(os.listdir(self.local), ["notes.txt"])
        r = run(["--ca-file", self.cert, "--insecure", "ls", f"{self.ftpes}/"], self.local)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--ca-file and --insecure contradict", r.stderr)

    def test_insecure_skips_the_check_and_says_so(self):
        r = run(["--insecure", "-v", "get", f"{self.ftpes}/hello.txt", "h.txt"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("certificate was not checked (--insecure)", r.stderr)
        self.assert_same("h.txt", "hello.txt")

    def test_implicit_ftps(self):
        if not SERVER.implicit:
            self.skipTest("this server has no implicit TLS (no --implicit-tls in `serve --help`)")
        self.make_local("i.bin", os.urandom(700 * 1024))
        root = SERVER.implicit.root
        r = run([*self.ca, "-v", self.ftps, "-c", "ls", "-c", "get big.bin", "-c", "cd pub",
                 "-c", "put i.bin"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("Implicit TLS (TLSv1.", r.stderr)
        self.assertIn("hello.txt", r.stdout)
        self.assertNotIn("AUTH TLS", r.stderr)
        self.assert_same("big.bin", "big.bin", root=root)
        self.assert_same("i.bin", "pub", "i.bin", root=root)

    def test_patterns_and_folders_over_tls(self):
        tree = os.path.join(self.local, "tree")
        os.makedirs(os.path.join(tree, "sub"))
        for name in ("a.bin", "sub/b.bin"):
            with open(os.path.join(tree, name), "wb") as f:
                f.write(os.urandom(200 * 1024))
        r = run([*self.ca, self.ftpes, "-c", "put -r tree pub/tree", "-c", "mget pub/tree/*.bin",
                 "-c", "get -r pub/tree back"], self.local)
        self.assertEqual(r.returncode, 0, r.stderr)
        for name in ("a.bin", "sub/b.bin"):
            self.assert_same(os.path.join("tree", name), "pub", "tree", name)
            self.assert_same(os.path.join("back", name), "pub", "tree", name)
        self.assert_same("a.bin", "pub", "tree", "a.bin")

    def test_the_prompt_says_tls_is_on(self):
        term = Terminal([*self.ca, f"{SERVER.login}localhost:{SERVER.port}"], self.local)
        self.addCleanup(term.close)
        said = term.expect(r"Type help")
        self.assertIn("Explicit TLS (TLSv1.", said)
        self.assertIn("commands and data are encrypted", said)
        term.expect(r"ftp> ")
        term.line("get big.bin")
        self.assertIn("100%", term.expect(r"ftp> ", timeout=30))
        self.assert_same("big.bin", "big.bin")
        term.line("quit")
        term.expect("Goodbye")
        self.assertEqual(term.wait(), 0)

    def make_local(self, name, data):
        with open(self.local_path(name), "wb") as f:
            f.write(data)


def start_server(tmp, ipv6=False):
    """The server this run tests against, in a fresh folder; None when it cannot run here."""
    os.makedirs(tmp, exist_ok=True)
    if ARGS.server == "vsftpd":
        return Vsftpd(tmp, ipv6)
    return NetmodelsServer(tmp, os.environ["NETMODELS_SERVER_MODEL"], ipv6)


def main():
    global SERVER, ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", default="vsftpd",
                        choices=["vsftpd", "netmodels", "vsftpd-tls", "netmodels-tls"])
    ARGS, rest = parser.parse_known_args()
    kind = ARGS.server.removesuffix("-tls")
    if kind == "vsftpd" and not os.path.exists(shutil.which("vsftpd") or "/usr/sbin/vsftpd"):
        print("SKIP: vsftpd is not installed (apt-get install vsftpd)")
        return SKIP
    if kind == "netmodels" and not os.environ.get("NETMODELS_SERVER_MODEL"):
        print("SKIP: set NETMODELS_SERVER_MODEL to test against netmodels' own server")
        return SKIP
    if ARGS.server.endswith("-tls") and not shutil.which("openssl"):
        print("SKIP: the openssl command is needed to make a certificate")
        return SKIP
    if ARGS.server == "netmodels-tls" and not server_has_tls():
        print("SKIP: this netmodels server has no TLS yet (no --tls-cert in `serve --help`)")
        return SKIP
    tmp = tempfile.mkdtemp(prefix="nm-client-server-")
    try:
        try:
            SERVER = TlsServers(tmp, kind) if ARGS.server.endswith("-tls") else start_server(tmp)
        except ModelUnavailable as e:
            print(f"SKIP: {e}")
            return SKIP
        print(f"testing against {SERVER.name} on {SERVER.host}:{SERVER.port}", flush=True)
        try:
            program = unittest.main(argv=[sys.argv[0], *rest], exit=False, verbosity=2,
                                    testLoader=ForThisServer())
        finally:
            SERVER.stop()
        return 0 if program.result.wasSuccessful() else 1
    finally:
        unlock_and_remove(tmp)


class ForThisServer(unittest.TestLoader):
    """A TLS run (--server ...-tls) runs the TLS tests only; the others run everything else."""

    def getTestCaseNames(self, case):
        if getattr(case, "TLS", False) != ARGS.server.endswith("-tls"):
            return []
        return super().getTestCaseNames(case)


def serve_help():
    r = subprocess.run([BIN, "serve", "--help"], capture_output=True, text=True, timeout=30)
    return r.stdout + r.stderr


def server_has_tls():
    return "--tls-cert" in serve_help()


def unlock_and_remove(tmp):
    """Removes a tree holding read-only folders (vsftpd's root must not be writable)."""
    for dirpath, dirnames, _ in os.walk(tmp):
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), 0o755)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
