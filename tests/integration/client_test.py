#!/usr/bin/python3
"""Integration tests of `netmodels ftp`, the FTP client, against a real server.

    client_test.py --server vsftpd      Debian's vsftpd, configured and started here
    client_test.py --server netmodels   netmodels' own server, model $NETMODELS_SERVER_MODEL

The interactive prompt is driven through a pseudo-terminal as a person would use it; the scripted
and URL forms are checked for their output, exit status and the files' checksums.
Exit status 77 means "skipped" (no vsftpd, or no model asked for).
"""

import argparse
import fcntl
import hashlib
import os
import queue
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import unittest

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
            f.write(text)
        self.proc = subprocess.Popen([exe, config], stdin=subprocess.DEVNULL)
        wait_for_port(self.host, self.port, self.proc)
        self.login = ""  # anonymous
        self.name = "vsftpd"

    def stop(self):
        stop(self.proc)
        os.chmod(self.root, 0o755)


class NetmodelsServer:
    """netmodels' own FTP server, user alice:secret."""

    def __init__(self, tmp, model, ipv6=False):
        self.root = os.path.join(tmp, "root")
        os.mkdir(self.root)
        fill_root(self.root)
        listen = "[::1]:0" if ipv6 else "127.0.0.1:0"
        self.proc = subprocess.Popen(
            [BIN, "serve", "--service", "ftp", "--model", model, "--listen", listen,
             "--root", self.root, "--user", "alice:secret"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
        line = self._read_listening_line()
        m = re.search(r"listening on (\S+):(\d+)", line)
        if not m:
            stop(self.proc)
            raise RuntimeError(f"unexpected first line from the server: {line!r}")
        self.host, self.port = m.group(1).strip("[]"), int(m.group(2))
        wait_for_port(self.host, self.port, self.proc)
        self.login = "alice:secret@"
        self.name = f"netmodels ({model})"

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
            raise RuntimeError("the server did not say where it listens")
        return line

    def stop(self):
        stop(self.proc)


def run(args, cwd, stdin_text=None, timeout=RUN_TIMEOUT):
    return subprocess.run([BIN, "ftp", *args], cwd=cwd, input=stdin_text or "",
                          capture_output=True, text=True, timeout=timeout)


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

    def test_refused_connection(self):
        r = run([f"127.0.0.1:{free_port()}", "-c", "list"], self.local)
        self.assertEqual(r.returncode, 1)
        self.assertIn("refused", r.stderr)


def start_server(tmp, ipv6=False):
    """The server this run tests against, in a fresh folder; None when it cannot run here."""
    os.makedirs(tmp, exist_ok=True)
    if ARGS.server == "vsftpd":
        return Vsftpd(tmp, ipv6)
    return NetmodelsServer(tmp, os.environ["NETMODELS_SERVER_MODEL"], ipv6)


def main():
    global SERVER, ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", choices=["vsftpd", "netmodels"], default="vsftpd")
    ARGS, rest = parser.parse_known_args()
    if ARGS.server == "vsftpd" and not os.path.exists(shutil.which("vsftpd") or "/usr/sbin/vsftpd"):
        print("SKIP: vsftpd is not installed (apt-get install vsftpd)")
        return SKIP
    if ARGS.server == "netmodels" and not os.environ.get("NETMODELS_SERVER_MODEL"):
        print("SKIP: set NETMODELS_SERVER_MODEL to test against netmodels' own server")
        return SKIP
    tmp = tempfile.mkdtemp(prefix="nm-client-server-")
    try:
        SERVER = start_server(tmp)
        print(f"testing against {SERVER.name} on {SERVER.host}:{SERVER.port}", flush=True)
        try:
            program = unittest.main(argv=[sys.argv[0], *rest], exit=False, verbosity=2)
        finally:
            SERVER.stop()
        return 0 if program.result.wasSuccessful() else 1
    finally:
        unlock_and_remove(tmp)


def unlock_and_remove(tmp):
    """Removes a tree holding read-only folders (vsftpd's root must not be writable)."""
    for dirpath, dirnames, _ in os.walk(tmp):
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), 0o755)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
