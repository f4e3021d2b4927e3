#!/usr/bin/env python3
"""Temporary uploads carry the instance id; `netmodels sweep` and `serve --sweep-on-start`
remove a killed server's leftovers; `serve` warns when --pasv-ports overlaps the kernel's
ephemeral range.

Environment: NETMODELS_BIN. One model (epoll): none of this depends on the model.
"""

import ftplib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

BIN = os.environ.get("NETMODELS_BIN", "netmodels")
TIMEOUT = 10
USER, PASSWORD = "alice", "secret"
PREFIX = ".nm-upload-"


def serve(root, *extra, stderr=subprocess.DEVNULL):
    proc = subprocess.Popen([BIN, "serve", "--service", "ftp", "--model", "epoll", "--listen",
                             "127.0.0.1:0", "--root", root, "--user", f"{USER}:{PASSWORD}",
                             *extra],
                            stdout=subprocess.PIPE, stderr=stderr)
    line = proc.stdout.readline().decode()
    assert line.startswith("listening on "), line
    return proc, int(line.rsplit(":", 1)[1])


def sweep(*args):
    return subprocess.run([BIN, "sweep", *args], capture_output=True, text=True, timeout=TIMEOUT)


def temps(root):
    found = []
    for folder, _, files in os.walk(root):
        found += [os.path.relpath(os.path.join(folder, f), root) for f in files
                  if f.startswith(PREFIX)]
    return sorted(found)


class SweepTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nm-sweep-it-")
        self.root = os.path.join(self.tmp, "root")
        os.makedirs(os.path.join(self.root, "sub"))
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def make(self, rel, age):
        path = os.path.join(self.root, rel)
        with open(path, "wb") as f:
            f.write(b"partial")
        then = time.time() - age
        os.utime(path, (then, then))
        return path

    def test_sweep_removes_exactly_the_stale_files_of_the_instance(self):
        self.make(".nm-upload-web1-2121-aaaaaa", 7200)
        self.make("sub/.nm-upload-web1-2121-bbbbbb", 7200)
        self.make(".nm-upload-web1-2121-cccccc", 5)        # fresh: an upload under way
        self.make(".nm-upload-web2-2121-dddddd", 7200)     # another instance's
        self.make("notes.txt", 7200)
        outside = os.path.join(self.tmp, "outside")
        os.mkdir(outside)
        with open(os.path.join(outside, ".nm-upload-web1-2121-eeeeee"), "wb") as f:
            f.write(b"x")
        os.utime(os.path.join(outside, ".nm-upload-web1-2121-eeeeee"), (0, 0))
        os.symlink(outside, os.path.join(self.root, "linked"))  # never followed
        os.symlink(os.path.join(outside, ".nm-upload-web1-2121-eeeeee"),
                   os.path.join(self.root, ".nm-upload-web1-2121-ffffff"))  # not ours

        dry = sweep("--root", self.root, "--instance", "web1-2121", "--older-than", "1h",
                    "--dry-run")
        self.assertEqual(dry.returncode, 0, dry.stderr)
        self.assertIn("would remove 2 temporary uploads", dry.stdout)
        self.assertEqual(len(temps(self.root)), 5)

        done = sweep("--root", self.root, "--instance", "web1-2121", "--older-than", "1h")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("removed 2 temporary uploads", done.stdout)
        self.assertIn(".nm-upload-web1-2121-aaaaaa", done.stdout)
        self.assertEqual(temps(self.root), sorted([
            ".nm-upload-web1-2121-cccccc", ".nm-upload-web1-2121-ffffff",
            ".nm-upload-web2-2121-dddddd"]))
        self.assertTrue(os.path.exists(os.path.join(outside, ".nm-upload-web1-2121-eeeeee")))
        self.assertTrue(os.path.exists(os.path.join(self.root, "notes.txt")))

        every = sweep("--root", self.root, "--older-than", "0")
        self.assertIn("removed 2 temporary uploads", every.stdout)  # c and d; the link stays
        self.assertEqual(temps(self.root), [".nm-upload-web1-2121-ffffff"])

        bad = sweep("--root", self.root, "--older-than", "soon")
        self.assertEqual(bad.returncode, 2)

    def test_kill_9_mid_stor_then_sweep(self):
        with open(os.path.join(self.root, "file.bin"), "wb") as f:
            f.write(b"previous" * 1000)
        proc, port = serve(self.root, "--instance-id", "it-1")
        try:
            ftp = ftplib.FTP(timeout=TIMEOUT)
            ftp.connect("127.0.0.1", port)
            ftp.login(USER, PASSWORD)
            ftp.voidcmd("TYPE I")
            data = ftp.transfercmd("STOR file.bin")
            data.sendall(b"new" * 100000)
            deadline = time.monotonic() + TIMEOUT
            while not temps(self.root) and time.monotonic() < deadline:
                time.sleep(0.02)
            left = temps(self.root)
            self.assertEqual(len(left), 1)
            self.assertRegex(left[0], r"^\.nm-upload-it-1-[A-Za-z0-9]{6}$")
            proc.kill()  # SIGKILL: no clean-up runs
            proc.wait(timeout=TIMEOUT)
            data.close()
            ftp.close()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        self.assertEqual(len(temps(self.root)), 1)
        done = sweep("--root", self.root, "--instance", "it-1", "--older-than", "0")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("removed 1 temporary upload\n", done.stdout)
        self.assertEqual(temps(self.root), [])
        with open(os.path.join(self.root, "file.bin"), "rb") as f:
            self.assertEqual(f.read(), b"previous" * 1000)

    def test_sweep_on_start_removes_only_its_own(self):
        self.make(".nm-upload-me-1-aaaaaa", 0)
        self.make("sub/.nm-upload-me-1-bbbbbb", 0)
        self.make(".nm-upload-other-cccccc", 0)
        log = os.path.join(self.tmp, "log")
        with open(log, "wb") as err:
            proc, port = serve(self.root, "--instance-id", "me-1", "--sweep-on-start",
                               stderr=err)
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(timeout=TIMEOUT), 0)
            proc.stdout.close()
        self.assertEqual(temps(self.root), [".nm-upload-other-cccccc"])
        with open(log) as f:
            self.assertIn("event=sweep ", f.read())

    def test_default_instance_id_is_host_and_port(self):
        log = os.path.join(self.tmp, "log")
        with open(log, "wb") as err:
            proc, port = serve(self.root, stderr=err)
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=TIMEOUT)
            proc.stdout.close()
        with open(log) as f:
            text = f.read()
        instance = re.search(r"event=start .*instance=(\S+)", text).group(1)
        host = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname())
        self.assertEqual(instance, f"{host}-{port}"[:64])
        bad = subprocess.run([BIN, "serve", "--root", self.root, "--instance-id", "a/b"],
                             capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(bad.returncode, 2)

    def test_pasv_ports_inside_the_ephemeral_range_are_warned_about(self):
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = map(int, f.read().split())
        for ports, warned in ((f"{low}-{low + 10}", True), (f"{low - 20}-{low - 10}", False)):
            log = os.path.join(self.tmp, "log")
            with open(log, "wb") as err:
                proc, _ = serve(self.root, "--pasv-ports", ports, stderr=err)
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=TIMEOUT)
                proc.stdout.close()
            with open(log) as f:
                lines = [x for x in f.read().splitlines() if "event=pasv-ports-overlap" in x]
            self.assertEqual(len(lines), 1 if warned else 0, (ports, lines))


if __name__ == "__main__":
    unittest.main(verbosity=2)
