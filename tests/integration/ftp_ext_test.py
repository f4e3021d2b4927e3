#!/usr/bin/env python3
"""The FTP server's extensions beyond the RFCs (issue 15), driven by ftplib, rclone and lftp.

MFMT / MFF, SITE CHMOD / SITE HELP, --umask, HASH / RANG / OPTS HASH, --user with a root and
rights, and --users reloaded on SIGHUP. Same environment and server harness as ftp_test.py
(NETMODELS_BIN, NETMODELS_MODEL; exits 77 when the model is not built).
"""

import calendar
import datetime
import ftplib
import hashlib
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import zlib

from ftp_test import MODEL, PASSWORD, TIMEOUT, USER, Server, run_tests

EVENT_MODELS = ("select", "poll", "epoll", "epoll-et", "reactors", "uring")

OLD = calendar.timegm((2002, 7, 17, 21, 7, 15))  # 20020717210715


class ExtTest(unittest.TestCase):
    def start(self, *extra):
        srv = Server(extra=extra)
        self.addCleanup(srv.stop, True)
        return srv

    def connect(self, srv, user=USER, password=PASSWORD):
        ftp = ftplib.FTP(timeout=TIMEOUT)
        ftp.connect("127.0.0.1", srv.port)
        ftp.login(user, password)
        self.addCleanup(ftp.close)
        return ftp

    def tool_env(self, srv, tool):
        path = shutil.which(tool)
        if not path:
            self.skipTest(f"{tool} is not installed (scripts/install-deps.sh installs it)")
        if MODEL == "iterative":
            self.skipTest(f"{tool} opens several connections at once; iterative serves one")
        return path

    # -- MFMT, MFF ---------------------------------------------------------------------------

    def test_mfmt_and_mff_set_the_modification_time(self):
        srv = self.start()
        with open(os.path.join(srv.root, "a b.txt"), "wb") as f:
            f.write(b"abc")
        ftp = self.connect(srv)
        self.assertIn("MFMT", ftp.sendcmd("FEAT"))
        self.assertEqual(ftp.sendcmd("MFMT 20020717210715 a b.txt"),
                         "213 Modify=20020717210715; a b.txt")
        self.assertEqual(os.stat(os.path.join(srv.root, "a b.txt")).st_mtime, OLD)
        self.assertEqual(ftp.sendcmd("MDTM a b.txt"), "213 20020717210715")
        self.assertEqual(ftp.sendcmd("MFF Modify=20010101000000;UNIX.mode=0600; a b.txt"),
                         "213 Modify=20010101000000;UNIX.mode=0600; a b.txt")
        st = os.stat(os.path.join(srv.root, "a b.txt"))
        self.assertEqual(st.st_mtime, calendar.timegm((2001, 1, 1, 0, 0, 0)))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        with self.assertRaisesRegex(ftplib.error_perm, "^504"):
            ftp.sendcmd("MFF Create=20010101000000; a b.txt")
        with self.assertRaisesRegex(ftplib.error_perm, "^501"):
            ftp.sendcmd("MFMT 2002 a b.txt")
        with self.assertRaisesRegex(ftplib.error_perm, "^550"):
            ftp.sendcmd("MFMT 20020717210715 missing.txt")

    def test_mfmt_refused_without_the_write_right(self):
        srv = self.start()
        path = os.path.join(srv.root, "ro.txt")
        with open(path, "wb") as f:
            f.write(b"abc")
        ftp = self.connect(srv, "anonymous", "x@example.org")
        with self.assertRaisesRegex(ftplib.error_perm, "^550"):
            ftp.sendcmd("MFMT 20020717210715 ro.txt")
        self.assertNotEqual(os.stat(path).st_mtime, OLD)

    def test_rclone_keeps_the_source_modification_time(self):
        srv = self.start()
        rclone = self.tool_env(srv, "rclone")
        src = tempfile.mkdtemp(prefix="nm-rclone-mt-")
        self.addCleanup(shutil.rmtree, src, True)
        data = os.urandom(12345)
        with open(os.path.join(src, "old.bin"), "wb") as f:
            f.write(data)
        os.utime(os.path.join(src, "old.bin"), (OLD, OLD))
        obscured = subprocess.run([rclone, "obscure", PASSWORD], capture_output=True, text=True,
                                  timeout=30, check=True).stdout.strip()
        remote = (f":ftp,host=127.0.0.1,port={srv.port},user={USER},pass={obscured}:up")
        common = ["--retries", "1", "--low-level-retries", "1", "--timeout", "20s",
                  "--contimeout", "10s", "--config", os.devnull]
        run = subprocess.run([rclone, "copy", src, remote, *common], capture_output=True,
                             text=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr[-3000:])
        uploaded = os.path.join(srv.root, "up", "old.bin")
        with open(uploaded, "rb") as f:
            self.assertEqual(f.read(), data)
        self.assertEqual(os.stat(uploaded).st_mtime, OLD)
        run = subprocess.run([rclone, "lsjson", remote, *common], capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(run.returncode, 0, run.stderr[-3000:])
        (entry,) = json.loads(run.stdout)
        when = datetime.datetime.fromisoformat(entry["ModTime"].replace("Z", "+00:00"))
        self.assertEqual(when.timestamp(), OLD, entry)

    # -- SITE CHMOD, SITE HELP, --umask --------------------------------------------------------

    def test_site_chmod_and_help(self):
        srv = self.start()
        with open(os.path.join(srv.root, "f.txt"), "wb") as f:
            f.write(b"abc")
        ftp = self.connect(srv)
        self.assertTrue(ftp.sendcmd("SITE CHMOD 640 f.txt").startswith("200"))
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(srv.root, "f.txt")).st_mode), 0o640)
        ftp.mkd("d")
        self.assertTrue(ftp.sendcmd("SITE CHMOD 0700 d").startswith("200"))
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(srv.root, "d")).st_mode), 0o700)
        for bad, code in (("4755 f.txt", "550"), ("u+x f.txt", "501"), ("755 /", "550"),
                          ("644 nope", "550")):
            with self.assertRaisesRegex(ftplib.error_perm, "^" + code):
                ftp.sendcmd("SITE CHMOD " + bad)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(srv.root, "f.txt")).st_mode), 0o640)
        self.assertIn("CHMOD", ftp.sendcmd("SITE HELP"))
        self.assertIn("SITE", ftp.sendcmd("HELP"))

    def test_default_umask_is_022(self):
        srv = self.start()
        ftp = self.connect(srv)
        ftp.storbinary("STOR up.bin", io.BytesIO(b"x"))
        ftp.mkd("made")
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(srv.root, "up.bin")).st_mode), 0o644)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(srv.root, "made")).st_mode), 0o755)

    def test_umask_option_applies_to_uploads_and_folders(self):
        srv = self.start("--umask", "027")
        ftp = self.connect(srv)
        ftp.storbinary("STOR up.bin", io.BytesIO(b"x"))
        ftp.storbinary("APPE app.bin", io.BytesIO(b"x"))
        ftp.mkd("made")
        for name, mode in (("up.bin", 0o640), ("app.bin", 0o640), ("made", 0o750)):
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(srv.root, name)).st_mode), mode,
                             name)

    def test_lftp_mirror_keeps_permissions(self):
        srv = self.start()
        lftp = self.tool_env(srv, "lftp")
        work = tempfile.mkdtemp(prefix="nm-lftp-perms-")
        self.addCleanup(shutil.rmtree, work, True)
        tree = os.path.join(work, "tree")
        os.makedirs(os.path.join(tree, "sub"))
        modes = {"run.sh": 0o750, "private.txt": 0o600, "sub/shared.txt": 0o664}
        for name, mode in modes.items():
            with open(os.path.join(tree, name), "wb") as f:
                f.write(os.urandom(1000))
            os.chmod(os.path.join(tree, name), mode)
        os.chmod(os.path.join(tree, "sub"), 0o710)
        script = ("set net:max-retries 1; set net:timeout 20; "
                  f"mirror -R --perms {tree} tree; chmod 604 tree/sub/shared.txt; quit")
        run = subprocess.run([lftp, "-u", f"{USER},{PASSWORD}", "-p", str(srv.port),
                              "-e", script, "127.0.0.1"],
                             capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        self.assertEqual(run.returncode, 0, run.stdout[-2000:] + run.stderr[-2000:])
        modes["sub/shared.txt"] = 0o604
        modes["sub"] = 0o710
        for name, mode in modes.items():
            got = stat.S_IMODE(os.stat(os.path.join(srv.root, "tree", name)).st_mode)
            self.assertEqual(oct(got), oct(mode), name)


def local_digest(algorithm, data):
    if algorithm == "CRC32":
        return f"{zlib.crc32(data):08x}"
    return hashlib.new({"SHA-256": "sha256", "SHA-1": "sha1", "MD5": "md5"}[algorithm],
                       data).hexdigest()


class HashTest(unittest.TestCase):
    """HASH, RANG and OPTS HASH against hashlib and zlib, on one server for the class."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server(extra=("--max-hash-size", str(8 << 20)))
        cls.files = {"empty.bin": b"", "one.bin": b"x", "some file.bin": os.urandom(300001),
                     "big.bin": os.urandom(3 << 20)}
        for name, data in cls.files.items():
            with open(os.path.join(cls.server.root, name), "wb") as f:
                f.write(data)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop(check=True)

    def connect(self):
        ftp = ftplib.FTP(timeout=TIMEOUT)
        ftp.connect("127.0.0.1", self.server.port)
        ftp.login(USER, PASSWORD)
        self.addCleanup(ftp.close)
        return ftp

    def test_feat_and_opts_hash(self):
        ftp = self.connect()
        self.assertIn(" HASH SHA-256*;SHA-1;MD5;CRC32\n", ftp.sendcmd("FEAT") + "\n")
        self.assertEqual(ftp.sendcmd("OPTS HASH"), "200 SHA-256")
        self.assertEqual(ftp.sendcmd("OPTS HASH crc32"), "200 CRC32")
        self.assertIn(" HASH SHA-256;SHA-1;MD5;CRC32*", ftp.sendcmd("FEAT"))
        with self.assertRaisesRegex(ftplib.error_perm, "^501"):
            ftp.sendcmd("OPTS HASH SHA-512")
        self.assertEqual(ftp.sendcmd("OPTS HASH"), "200 CRC32")

    def test_every_algorithm_matches_hashlib(self):
        ftp = self.connect()
        for algorithm in ("SHA-256", "SHA-1", "MD5", "CRC32"):
            ftp.sendcmd("OPTS HASH " + algorithm)
            for name, data in self.files.items():
                self.assertEqual(ftp.sendcmd("HASH " + name),
                                 f"213 {algorithm} 0-{len(data)} {local_digest(algorithm, data)} "
                                 f"{name}", (algorithm, name))

    def test_rang_hashes_a_byte_range_once(self):
        ftp = self.connect()
        data = self.files["some file.bin"]
        self.assertTrue(ftp.sendcmd("RANG 1000 250000").startswith("350"))
        self.assertEqual(ftp.sendcmd("HASH some file.bin"),
                         f"213 SHA-256 1000-250000 {local_digest('SHA-256', data[1000:250000])} "
                         "some file.bin")
        self.assertEqual(ftp.sendcmd("HASH some file.bin").split()[2], f"0-{len(data)}")
        ftp.sendcmd("OPTS HASH MD5")
        ftp.sendcmd(f"RANG 0 {len(data)}")
        self.assertEqual(ftp.sendcmd("HASH some file.bin").split()[3], local_digest("MD5", data))
        ftp.sendcmd(f"RANG 5 {len(data) + 1}")
        with self.assertRaisesRegex(ftplib.error_perm, "^554"):
            ftp.sendcmd("HASH some file.bin")
        for bad in ("RANG 9 3", "RANG x y", "RANG 4"):
            with self.assertRaisesRegex(ftplib.error_perm, "^501"):
                ftp.sendcmd(bad)

    def test_refusals(self):
        os.makedirs(os.path.join(self.server.root, "folder"), exist_ok=True)
        with open(os.path.join(self.server.root, "huge.bin"), "wb") as f:
            f.truncate((8 << 20) + 1)
        ftp = self.connect()
        for line in ("HASH missing.bin", "HASH folder", "HASH huge.bin"):
            with self.assertRaisesRegex(ftplib.error_perm, "^550"):
                ftp.sendcmd(line)
        ftp.sendcmd(f"RANG 1 {(8 << 20) + 1}")  # the cap is on the range, not the file
        self.assertEqual(ftp.sendcmd("HASH huge.bin").split()[3],
                         local_digest("SHA-256", bytes(8 << 20)))
        ftp.quit()  # iterative serves one session at a time
        anon = ftplib.FTP(timeout=TIMEOUT)
        anon.connect("127.0.0.1", self.server.port)
        anon.login()
        self.addCleanup(anon.close)
        self.assertTrue(anon.sendcmd("HASH one.bin").startswith("213"))  # read right suffices

    def test_hashing_does_not_stall_other_sessions(self):
        if MODEL not in EVENT_MODELS:
            self.skipTest("a blocking model runs each session on its own thread or process")
        srv = Server()  # the default cap, 1 GiB
        self.addCleanup(srv.stop, True)
        with open(os.path.join(srv.root, "sparse.bin"), "wb") as f:
            f.truncate(256 << 20)  # zeros the kernel makes up: CPU-bound, no disk
        hasher, other = ftplib.FTP(timeout=TIMEOUT), ftplib.FTP(timeout=TIMEOUT)
        for ftp in (hasher, other):
            ftp.connect("127.0.0.1", srv.port)
            ftp.login(USER, PASSWORD)
            self.addCleanup(ftp.close)
        hasher.sendcmd("OPTS HASH CRC32")
        done = threading.Event()
        worst = []

        def ping():
            while not done.is_set():
                started = time.monotonic()
                other.voidcmd("NOOP")
                worst.append(time.monotonic() - started)
                time.sleep(0.01)

        pinger = threading.Thread(target=ping)
        pinger.start()
        started = time.monotonic()
        reply = hasher.sendcmd("HASH sparse.bin")
        took = time.monotonic() - started
        done.set()
        pinger.join()
        self.assertEqual(reply.split()[3], f"{zlib.crc32(bytes(256 << 20)):08x}")
        # Had the job run on the loop, one NOOP would have waited for the whole hash.
        self.assertGreater(len(worst), 3, took)
        self.assertLess(max(worst), took / 2, (took, max(worst), len(worst)))

def process_tree(pid):
    """`pid` and its descendants (prefork's workers, fork's children), by /proc."""
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        for task in os.listdir(f"/proc/{p}/task"):
            try:
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
            except OSError:
                pass
    return pids


class UsersTest(unittest.TestCase):
    """--user NAME:PASSWORD:ROOT:RIGHTS, and --users re-read on SIGHUP."""

    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="nm-users-")
        self.addCleanup(shutil.rmtree, self.work, True)
        self.home = os.path.join(self.work, "home")
        os.mkdir(self.home)
        with open(os.path.join(self.home, "mine.txt"), "wb") as f:
            f.write(b"carol's")

    def login(self, srv, user, password):
        ftp = ftplib.FTP(timeout=TIMEOUT)
        ftp.connect("127.0.0.1", srv.port)
        self.addCleanup(ftp.close)
        ftp.login(user, password)
        return ftp

    def refused(self, srv, user, password):
        with self.assertRaisesRegex(ftplib.error_perm, "^530"):
            self.login(srv, user, password)

    def test_user_option_with_root_and_rights(self):
        srv = Server(extra=("--user", f"carol:pw:{self.home}:rm"))
        self.addCleanup(srv.stop, True)
        carol = self.login(srv, "carol", "pw")
        self.addCleanup(carol.close)
        self.assertEqual(carol.nlst(), ["mine.txt"])
        carol.mkd("made")
        self.assertTrue(os.path.isdir(os.path.join(self.home, "made")))
        with self.assertRaisesRegex(ftplib.error_perm, "^550"):
            carol.storbinary("STOR up.bin", io.BytesIO(b"x"))
        with self.assertRaisesRegex(ftplib.error_perm, "^550"):
            carol.delete("mine.txt")
        carol.quit()  # iterative serves one session at a time
        alice = self.login(srv, USER, PASSWORD)  # NAME:PASSWORD: every right at --root
        alice.storbinary("STOR up.bin", io.BytesIO(b"x"))
        self.assertTrue(os.path.exists(os.path.join(srv.root, "up.bin")))

    def users_line(self, name, password, rights):
        return subprocess.run([os.environ.get("NETMODELS_BIN", "netmodels"), "passwd", name,
                               "--sha512", "--root", self.home, "--rights", rights],
                              input=password + "\n", capture_output=True, text=True, timeout=30,
                              check=True).stdout.strip()

    def write_users(self, path, text):
        # Replaced by a rename, as editors and config management write it.
        with open(path + ".new", "w") as f:
            f.write(text)
        os.rename(path + ".new", path)

    def hup(self, srv):
        for pid in process_tree(srv.proc.pid):
            os.kill(pid, signal.SIGHUP)
        # The handler only bumps a counter and the file is read at the next login: the signal
        # needs only to have arrived.
        time.sleep(0.2)

    def test_sighup_reloads_the_users_file(self):
        if MODEL == "iterative":
            self.skipTest("keeps one session logged in while others log in")
        users = os.path.join(self.work, "users")
        bob, carol = self.users_line("bob", "bpw", "r"), self.users_line("carol", "cpw", "rw")
        self.write_users(users, bob + "\n")
        srv = Server(extra=("--users", users))
        self.addCleanup(srv.stop, True)
        kept = self.login(srv, "bob", "bpw")
        self.refused(srv, "carol", "cpw")

        self.write_users(users, "# bob left\n" + carol + "\n")
        self.hup(srv)
        self.refused(srv, "bob", "bpw")
        writer = self.login(srv, "carol", "cpw")
        writer.storbinary("STOR new.bin", io.BytesIO(b"x"))
        self.assertTrue(os.path.exists(os.path.join(self.home, "new.bin")))
        # bob's session outlives his removal, with the rights it logged in with.
        self.assertEqual(sorted(kept.nlst()), ["mine.txt", "new.bin"])
        with self.assertRaisesRegex(ftplib.error_perm, "^550"):
            kept.storbinary("STOR bob.bin", io.BytesIO(b"x"))

        self.write_users(users, carol + "\nthis line is broken\n")
        self.hup(srv)
        # The last good file stays, in every process (fork's children and prefork's workers
        # started with bob's file, and a broken one must not bring him back).
        self.login(srv, "carol", "cpw")
        self.refused(srv, "bob", "bpw")
        self.assertRegex(srv.log(), r"event=users-reload .*users=1 result=fail error=.*:2")
        self.assertRegex(srv.log(), r"event=users-reload .*users=1 result=ok")


def main():
    return run_tests(Server)


if __name__ == "__main__":
    sys.exit(main())
