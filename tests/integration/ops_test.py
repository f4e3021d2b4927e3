#!/usr/bin/env python3
"""Running netmodels like the servers it replaces: --version, --help, --check-config, log
formats and files (SIGHUP reopen), the xferlog, and serving under --sandbox.

Environment: NETMODELS_BIN. Loopback only; every server is stopped by its pid.
"""

import ftplib
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from netmodels_server import Server, binary, wait_until  # noqa: E402

TIMEOUT = 20


def run(*args, timeout=30):
    return subprocess.run([binary(), *args], capture_output=True, text=True, timeout=timeout)


def curl(*args):
    return subprocess.run(["curl", "-sS", "--max-time", str(TIMEOUT), *args],
                          capture_output=True, timeout=TIMEOUT + 5)


class Folder:
    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="netmodels-ops-")
        self.path = self.tmp.name
        self.root = os.path.join(self.path, "root")
        os.mkdir(self.root)

    def file(self, name, text=""):
        path = os.path.join(self.path, name)
        with open(path, "w") as f:
            f.write(text)
        return path


class CommandLine(unittest.TestCase):
    def test_version_names_project_version_and_commit(self):
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout.strip(), r"^netmodels \d+\.\d+\.\d+ \(git [0-9A-Za-z.+_-]+\)$")

    def test_help_lists_the_subcommands(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        for cmd in ("serve", "ftp", "bench", "passwd"):
            self.assertRegex(r.stdout, rf"(?m)^\s+{cmd}\s")


class CheckConfig(unittest.TestCase):
    def setUp(self):
        self.dir = Folder()

    def tearDown(self):
        self.dir.tmp.cleanup()

    def check(self, text):
        path = self.dir.file("netmodels.toml", text)
        return run("serve", "--check-config", "--config", path)

    def test_valid_file_prints_the_effective_configuration(self):
        r = self.check(f'model = "threads"\nroot = "{self.dir.root}"\nmax-clients = 7\n')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('model="threads"', r.stdout)
        self.assertIn("max-clients=7", r.stdout)
        self.assertIn('listen="127.0.0.1:2121"', r.stdout)  # a default, shown too

    def test_unknown_key_names_key_and_line(self):
        r = self.check(f'model = "threads"\nroot = "{self.dir.root}"\nmax-cleints = 7\n')
        self.assertEqual(r.returncode, 2)
        self.assertIn("line 3", r.stderr)
        self.assertIn("max-cleints", r.stderr)

    def test_bad_value_names_key_and_line(self):
        r = self.check(f'root = "{self.dir.root}"\n\nidle-timeout = "soon"\n')
        self.assertEqual(r.returncode, 2)
        self.assertIn("line 3", r.stderr)
        self.assertIn("idle-timeout", r.stderr)
        r = self.check(f'root = "{self.dir.root}"\nmodel = "nonesuch"\n')
        self.assertEqual(r.returncode, 2)
        self.assertIn("line 2: key model", r.stderr)

    def test_semantic_errors_name_key_and_line(self):
        # Found after parsing (the users file, a --user spec, the root): still the key's line.
        r = self.check(f'root = "{self.dir.root}"\nusers = "{self.dir.path}/nonexistent"\n')
        self.assertEqual(r.returncode, 2)
        self.assertIn("line 2: key users", r.stderr)
        r = self.check(f'root = "{self.dir.root}"\n\nuser = ["nocolon"]\n')
        self.assertEqual(r.returncode, 2)
        self.assertIn("line 3: key user", r.stderr)
        r = self.check(f'root = "{self.dir.path}/nope"\n')
        self.assertEqual(r.returncode, 2)
        self.assertIn("line 1: key root", r.stderr)

    def test_proxy_protocol_data_needs_proxy_protocol(self):
        r = self.check(f'root = "{self.dir.root}"\nproxy-protocol-data = true\n')
        self.assertEqual(r.returncode, 2)
        self.assertIn("line 2: key proxy-protocol-data", r.stderr)
        self.assertIn("needs --proxy-protocol", r.stderr)
        r = self.check(f'root = "{self.dir.root}"\nproxy-protocol = "v2"\n'
                       'proxy-protocol-data = true\n')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("proxy-protocol-data=true", r.stdout)

    def test_toml_syntax_error_names_line(self):
        r = self.check('model = "threads"\nlisten = \n')
        self.assertEqual(r.returncode, 2)
        self.assertIn("line 2", r.stderr)

    def test_missing_root_fails(self):
        r = run("serve", "--check-config", "--root", os.path.join(self.dir.path, "nope"))
        self.assertEqual(r.returncode, 2)


def failed_login(server, user="alice", password="wrong"):
    with ftplib.FTP() as ftp:
        ftp.connect(server.host, server.port, timeout=TIMEOUT)
        try:
            ftp.login(user, password)
        except ftplib.error_perm:
            return
    raise AssertionError("login with a wrong password succeeded")


class Logs(unittest.TestCase):
    def setUp(self):
        self.dir = Folder()

    def tearDown(self):
        self.dir.tmp.cleanup()

    def test_logfmt_lines_have_ts_level_pid(self):
        with Server("--root", self.dir.root, "--user", "alice:secret") as srv:
            failed_login(srv)
            self.assertEqual(srv.stop(), 0)
        lines = [l for l in srv.stderr_text.splitlines() if "event=login" in l]
        self.assertEqual(len(lines), 1, srv.stderr_text)
        self.assertRegex(
            lines[0],
            r"^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=info pid=%d .*event=login "
            r"user=alice peer=127\.0\.0\.1:\d+ result=fail failures=1$" % srv.pid)

    def test_json_lines_render_the_same_pairs(self):
        log = os.path.join(self.dir.path, "netmodels.log")
        with Server("--root", self.dir.root, "--user", "alice:secret", "--log-format", "json",
                    "--log-file", log) as srv:
            failed_login(srv, user='we"ird user')
            self.assertEqual(srv.stop(), 0)
        with open(log) as f:
            records = [json.loads(line) for line in f]
        self.assertTrue(records)
        for r in records:
            self.assertEqual(list(r)[:3], ["ts", "level", "pid"])
            self.assertEqual(r["pid"], srv.pid)
        logins = [r for r in records if r.get("event") == "login"]
        self.assertEqual(len(logins), 1, records)
        self.assertEqual(logins[0]["user"], 'we"ird user')
        self.assertEqual(logins[0]["result"], "fail")
        self.assertTrue(any(r.get("event") == "start" for r in records))

    def test_log_file_is_reopened_on_sighup(self):
        log = os.path.join(self.dir.path, "netmodels.log")
        xfer = os.path.join(self.dir.path, "xferlog")
        with open(os.path.join(self.dir.root, "a.txt"), "w") as f:
            f.write("hello\n")
        with Server("--root", self.dir.root, "--user", "alice:secret", "--log-file", log,
                    "--xferlog", xfer, "--model", "fork") as srv:
            failed_login(srv)
            os.rename(log, log + ".1")
            os.rename(xfer, xfer + ".1")
            srv.proc.send_signal(signal.SIGHUP)
            # The handler only bumps a counter: the next line goes to a new file at the path.
            time.sleep(0.2)
            failed_login(srv, user="bob")
            r = curl(f"ftp://alice:secret@127.0.0.1:{srv.port}/a.txt")
            self.assertEqual(r.stdout, b"hello\n", r.stderr)
            self.assertEqual(srv.stop(), 0)
        with open(log + ".1") as f:
            old = f.read()
        with open(log) as f:
            new = f.read()
        self.assertIn("user=alice", old)
        self.assertNotIn("user=bob", old)
        self.assertIn("user=bob", new)  # logged by a forked child: it reopened too
        self.assertIn("event=stop", new)
        with open(xfer) as f:
            self.assertIn(" /a.txt b _ o r alice ftp 0 * c", f.read())


XFERLOG_LINE = re.compile(
    r"^(?P<when>\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}) (?P<secs>\d+) (?P<host>\S+) "
    r"(?P<bytes>\d+) (?P<path>\S+) (?P<type>[ab]) _ (?P<dir>[io]) (?P<mode>[agr]) (?P<user>\S+) "
    r"ftp 0 \* (?P<status>[ci])$")


class Xferlog(unittest.TestCase):
    def test_retr_and_stor_with_curl(self):
        d = Folder()
        self.addCleanup(d.tmp.cleanup)
        xfer = os.path.join(d.path, "xferlog")
        payload = os.urandom(10000)
        with open(os.path.join(d.root, "down.bin"), "wb") as f:
            f.write(payload)
        up = d.file("up.txt", "x" * 1234)
        with Server("--root", d.root, "--user", "alice:secret", "--xferlog", xfer) as srv:
            r = curl(f"ftp://alice:secret@127.0.0.1:{srv.port}/down.bin")
            self.assertEqual(r.stdout, payload, r.stderr)
            r = curl("-T", up, f"ftp://alice:secret@127.0.0.1:{srv.port}/up.txt")
            self.assertEqual(r.returncode, 0, r.stderr)
            r = curl("-l", f"ftp://alice:secret@127.0.0.1:{srv.port}/")  # a listing: not logged
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(srv.stop(), 0)
        with open(xfer) as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), 2, lines)
        down, upl = (XFERLOG_LINE.match(l) for l in lines)
        self.assertTrue(down and upl, lines)
        self.assertEqual((down["host"], down["bytes"], down["path"], down["dir"], down["user"],
                          down["mode"], down["status"], down["type"]),
                         ("127.0.0.1", "10000", "/down.bin", "o", "alice", "r", "c", "b"))
        self.assertEqual((upl["bytes"], upl["path"], upl["dir"], upl["user"], upl["status"]),
                         ("1234", "/up.txt", "i", "alice", "c"))


class Notify(unittest.TestCase):
    def test_ready_is_sent_to_notify_socket_once_listening(self):
        d = Folder()
        self.addCleanup(d.tmp.cleanup)
        path = os.path.join(d.path, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(path)
        sock.settimeout(TIMEOUT)
        saved = os.environ.get("NOTIFY_SOCKET")
        os.environ["NOTIFY_SOCKET"] = path  # as systemd sets it for Type=notify
        try:
            srv = Server("--root", d.root, "--model", "fork")
        finally:
            if saved is None:
                del os.environ["NOTIFY_SOCKET"]
            else:
                os.environ["NOTIFY_SOCKET"] = saved
        with srv:
            self.assertEqual(sock.recv(4096), b"READY=1")
            with srv.connect() as c:  # a served connection: a fork child sends nothing
                c.recv(100)
            self.assertEqual(srv.stop(), 0)
        self.assertEqual(sock.recv(4096), b"STOPPING=1")
        sock.setblocking(False)
        with self.assertRaises(BlockingIOError):
            sock.recv(4096)


class Sandbox(unittest.TestCase):
    def test_serves_everything_inside_the_root(self):
        d = Folder()
        self.addCleanup(d.tmp.cleanup)
        with open(os.path.join(d.root, "a.txt"), "w") as f:
            f.write("inside\n")
        os.mkdir(os.path.join(d.root, "sub"))
        log = os.path.join(d.path, "logs", "netmodels.log")
        os.mkdir(os.path.dirname(log))
        with Server("--root", d.root, "--user", "alice:secret", "--sandbox", "--log-file", log,
                    "--model", os.environ.get("NETMODELS_MODEL", "epoll")) as srv:
            with open(log) as f:
                if "event=sandbox result=unsupported" in f.read():
                    self.skipTest("the kernel has no Landlock")
            with ftplib.FTP() as ftp:
                ftp.connect(srv.host, srv.port, timeout=TIMEOUT)
                ftp.login("alice", "secret")
                self.assertIn("a.txt", ftp.nlst())
                got = io.BytesIO()
                ftp.retrbinary("RETR a.txt", got.write)
                self.assertEqual(got.getvalue(), b"inside\n")
                ftp.storbinary("STOR sub/new.bin", io.BytesIO(b"\0" * 70000))
                ftp.mkd("made")
                ftp.rename("sub/new.bin", "made/moved.bin")
                self.assertEqual(ftp.size("made/moved.bin"), 70000)
                lines = []
                ftp.retrlines("LIST made", lines.append)
                self.assertTrue(any("moved.bin" in l for l in lines))
                ftp.delete("made/moved.bin")
                ftp.rmd("made")
                ftp.quit()
            self.assertEqual(srv.stop(), 0)
        with open(log) as f:
            text = f.read()
        self.assertIn("event=sandbox result=on", text)
        self.assertNotIn("Permission denied", text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
