#!/usr/bin/env python3
"""Bandwidth limits and quotas (issue 15), over loopback, once per model.

--max-rate (logged-in users), --anon-max-rate (anonymous) and the users file's rate= are measured
over the wire: the seconds a RETR or STOR takes from its 150 to its 226, against the rate,
within +-15% (the bucket's own accuracy is the unit test's; 10 s within 10% is the manual check
in README). An unlimited transfer on the same server stays fast. The users file's quota= refuses
an upload past it with 552, keeping the previous file and leaving no temporary file; ALLO past it
is refused before any byte; two concurrent uploads of one user that together pass it end with one
stored and one refused, and what is on disk never passes it. Same environment and server harness
as ftp_test.py (NETMODELS_BIN, NETMODELS_MODEL; exits 77 when the model is not built). Every
transfer is a few hundred KiB, so a model's run takes a few seconds.
"""

import ftplib
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from ftp_test import MODEL, PASSWORD, TIMEOUT, USER, Server, run_tests

KIB = 1024
RATE = 256 * KIB        # --max-rate: alice's downloads
ANON_RATE = 512 * KIB   # --anon-max-rate
CAROL_RATE = 1024 * KIB  # carol's rate= in the users file: her uploads
BOB_RATE = 2048 * KIB   # bob's rate=: his uploads last long enough to overlap
QUOTA = 512 * KIB       # bob's quota=
TOLERANCE = 0.15


def measured(seconds, size):
    return size / seconds


class LimitsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="nm-limits-")
        cls.home = os.path.join(cls.work, "bob")
        os.mkdir(cls.home)
        cls.carol_home = os.path.join(cls.work, "carol")
        os.mkdir(cls.carol_home)
        cls.users = os.path.join(cls.work, "users")
        with open(cls.users, "w") as f:
            f.write(f"{cls.users_line('bob', cls.home)} rate={BOB_RATE // KIB}K "
                    f"quota={QUOTA // KIB}K,20\n")
            f.write(f"{cls.users_line('carol', cls.carol_home)} rate={CAROL_RATE // KIB}K\n")
        cls.srv = Server(extra=("--users", cls.users, "--max-rate", f"{RATE // KIB}K",
                                "--anon-max-rate", f"{ANON_RATE // KIB}K"))
        cls.rates = []

    @staticmethod
    def users_line(name, home):
        return subprocess.run([os.environ.get("NETMODELS_BIN", "netmodels"), "passwd", name,
                               "--sha512", "--root", home, "--rights", "rwdnm"],
                              input=f"{name}pw\n", capture_output=True, text=True, timeout=30,
                              check=True).stdout.strip()

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop(check=True)
        shutil.rmtree(cls.work, ignore_errors=True)
        for line in cls.rates:
            print(f"{MODEL}: {line}")

    def setUp(self):
        for name in os.listdir(self.home):
            os.remove(os.path.join(self.home, name))

    def connect(self, user=USER, password=PASSWORD):
        ftp = ftplib.FTP(timeout=TIMEOUT)
        ftp.connect("127.0.0.1", self.srv.port)
        ftp.login(user, password)
        self.addCleanup(ftp.close)
        return ftp

    # The clock runs from the 150 to the 226: the bucket paces the data connection, and the
    # TYPE, PASV, connect and command round trips before it are not paced (on a loaded machine
    # they took a fifth of a second, which read as a rate 16% too low for a 1 s transfer).
    def timed_retr(self, ftp, name):
        ftp.voidcmd("TYPE I")
        out = bytearray()
        with ftp.transfercmd(f"RETR {name}") as conn:
            start = time.monotonic()
            while chunk := conn.recv(64 * KIB):
                out += chunk
        ftp.voidresp()
        return time.monotonic() - start, bytes(out)

    def timed_stor(self, ftp, name, data):
        ftp.voidcmd("TYPE I")
        with ftp.transfercmd(f"STOR {name}") as conn:
            start = time.monotonic()
            conn.sendall(data)
        ftp.voidresp()
        return time.monotonic() - start

    def assert_rate(self, what, seconds, size, rate):
        got = measured(seconds, size)
        self.rates.append(f"{what}: {size} bytes in {seconds:.3f} s = {got / KIB:.1f} KiB/s, "
                          f"limit {rate / KIB:.0f} KiB/s ({(got / rate - 1) * 100:+.1f}%)")
        self.assertLess(abs(got / rate - 1), TOLERANCE, self.rates[-1])

    def store(self, ftp, name, data):
        """STOR that may be refused midway: the server closes the data connection while we
        still send, so the reply is read whatever the send said. Returns the reply."""
        conn = ftp.transfercmd(f"STOR {name}")
        try:
            view = memoryview(data)
            while view:
                sent = conn.send(view[:64 * KIB])
                view = view[sent:]
        except OSError:
            pass  # the refusal cut the data connection
        finally:
            conn.close()
        try:
            return ftp.voidresp()
        except ftplib.error_perm as e:
            return str(e)

    def on_disk(self):
        total = 0
        for name in os.listdir(self.home):
            try:
                total += os.stat(os.path.join(self.home, name)).st_size
            except FileNotFoundError:
                pass
        return total

    def temp_files(self):
        return [n for n in os.listdir(self.home) if n.startswith(".nm-upload-")]

    # -- rates ---------------------------------------------------------------------------------

    def test_rates_held_over_the_wire_and_unlimited_stays_fast(self):
        big = os.urandom(RATE * 5 // 2)  # 2.5 s at --max-rate
        with open(os.path.join(self.srv.root, "big.bin"), "wb") as f:
            f.write(big)
        anon = os.urandom(ANON_RATE)  # 1 s at --anon-max-rate
        with open(os.path.join(self.srv.root, "anon.bin"), "wb") as f:
            f.write(anon)
        up = os.urandom(CAROL_RATE)  # 1 s at carol's rate=
        results = {}

        # Each session ends when done: iterative serves the next only then.
        def alice():
            ftp = self.connect()
            results["alice"] = self.timed_retr(ftp, "big.bin")
            ftp.quit()

        def anonymous():
            ftp = self.connect("anonymous", "a@b")
            results["anon"] = self.timed_retr(ftp, "anon.bin")
            ftp.quit()

        def carol():
            ftp = self.connect("carol", "carolpw")
            results["carol"] = self.timed_stor(ftp, "up.bin", up)
            ftp.quit()

        jobs = [alice, anonymous, carol]
        if MODEL == "iterative":
            for job in jobs:  # one session at a time
                job()
        else:
            # Each session has a bucket of its own: run side by side, the three take 2.5 s.
            threads = [threading.Thread(target=job) for job in jobs]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
        seconds, data = results["alice"]
        self.assertEqual(data, big)
        self.assert_rate("RETR --max-rate", seconds, len(big), RATE)
        seconds, data = results["anon"]
        self.assertEqual(data, anon)
        self.assert_rate("RETR --anon-max-rate", seconds, len(anon), ANON_RATE)
        self.assert_rate("STOR rate=", results["carol"], len(up), CAROL_RATE)
        with open(os.path.join(self.carol_home, "up.bin"), "rb") as f:
            self.assertEqual(f.read(), up)

    def test_unlimited_transfers_stay_fast(self):
        srv = Server()
        self.addCleanup(srv.stop, True)
        data = os.urandom(16 * 1024 * KIB)
        with open(os.path.join(srv.root, "fast.bin"), "wb") as f:
            f.write(data)
        ftp = ftplib.FTP(timeout=TIMEOUT)
        ftp.connect("127.0.0.1", srv.port)
        ftp.login(USER, PASSWORD)
        self.addCleanup(ftp.close)
        seconds, got = self.timed_retr(ftp, "fast.bin")
        self.assertEqual(got, data)
        self.rates.append(f"RETR unlimited: {len(data)} bytes in {seconds:.3f} s")
        # 16 MiB: far beyond any limit above, in well under the 64 s --max-rate would take.
        self.assertLess(seconds, 4.0)

    # -- quotas --------------------------------------------------------------------------------

    def test_upload_past_the_quota_is_refused_and_the_old_file_kept(self):
        old = os.urandom(100 * KIB)
        with open(os.path.join(self.home, "keep.bin"), "wb") as f:
            f.write(old)
        ftp = self.connect("bob", "bobpw")  # the login walk counts keep.bin
        reply = self.store(ftp, "keep.bin", os.urandom(QUOTA + 100 * KIB))
        self.assertTrue(reply.startswith("552"), reply)
        with open(os.path.join(self.home, "keep.bin"), "rb") as f:
            self.assertEqual(f.read(), old)
        self.assertEqual(self.temp_files(), [])
        # Replacing it with a file as big as the quota fits: an overwrite counts the difference.
        exact = os.urandom(QUOTA)
        self.assertTrue(self.store(ftp, "keep.bin", exact).startswith("226"))
        with open(os.path.join(self.home, "keep.bin"), "rb") as f:
            self.assertEqual(f.read(), exact)
        # Full: a new file is refused before it starts; DELE gives the room back.
        with self.assertRaisesRegex(ftplib.error_perm, "^552"):
            ftp.storbinary("STOR more.bin", io.BytesIO(b"x"))
        ftp.delete("keep.bin")
        self.assertTrue(self.store(ftp, "more.bin", b"y" * (QUOTA // 2)).startswith("226"))

    def test_allo_past_the_quota_is_refused(self):
        with open(os.path.join(self.home, "some.bin"), "wb") as f:
            f.write(b"z" * (200 * KIB))
        ftp = self.connect("bob", "bobpw")
        with self.assertRaisesRegex(ftplib.error_perm, "^552"):
            ftp.sendcmd(f"ALLO {QUOTA - 200 * KIB + 1}")
        self.assertTrue(ftp.sendcmd(f"ALLO {QUOTA - 200 * KIB}").startswith("202"))
        ftp.quit()  # iterative serves one session at a time
        # Anonymous has no quota: ALLO is the RFC's no-op.
        self.assertTrue(self.connect("anonymous", "a@b").sendcmd("ALLO 999999999").startswith("202"))

    def test_two_concurrent_uploads_past_the_quota(self):
        if MODEL == "iterative":
            self.skipTest("iterative serves one session at a time: nothing runs concurrently")
        size = QUOTA * 3 // 5  # each fits, the two do not
        datas = {"a.bin": os.urandom(size), "b.bin": os.urandom(size)}
        ftps = {name: self.connect("bob", "bobpw") for name in datas}
        replies = {}
        peak = [0]
        done = threading.Event()

        def watch():
            while not done.is_set():
                peak[0] = max(peak[0], self.on_disk())
                time.sleep(0.005)

        def upload(name):
            replies[name] = self.store(ftps[name], name, datas[name])

        watcher = threading.Thread(target=watch)
        watcher.start()
        # bob's rate= makes each upload last about 0.3 s: they overlap.
        threads = [threading.Thread(target=upload, args=(name,)) for name in datas]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        done.set()
        watcher.join()
        codes = sorted(reply[:3] for reply in replies.values())
        self.assertEqual(codes, ["226", "552"], replies)
        stored = [name for name, reply in replies.items() if reply.startswith("226")][0]
        with open(os.path.join(self.home, stored), "rb") as f:
            self.assertEqual(f.read(), datas[stored])
        self.assertEqual(self.temp_files(), [])
        self.assertEqual(sorted(os.listdir(self.home)), [stored])
        self.assertLessEqual(peak[0], QUOTA)


def main():
    return run_tests(Server)


if __name__ == "__main__":
    sys.exit(main())
