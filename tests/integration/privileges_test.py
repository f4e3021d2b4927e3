#!/usr/bin/env python3
"""`serve --run-as nobody:nogroup` on port 21: every process and thread of the server runs as
that user and group, and an upload is owned by it.

Environment: NETMODELS_BIN, NETMODELS_MODEL. Needs root (exit 77, skipped, otherwise) and a free
127.0.0.1:21 (skipped when taken). The server is stopped by its pid.
"""

import errno
import ftplib
import grp
import io
import os
import pwd
import shutil
import socket
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from netmodels_server import Server  # noqa: E402

SKIP = 77
MODEL = os.environ.get("NETMODELS_MODEL", "epoll")
TIMEOUT = 20
USER, GROUP = "nobody", "nogroup"


def port_21_free():
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 21))
        return True
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            return False
        raise
    finally:
        s.close()


def server_processes(pid):
    """pid and every process below it (by the ppid in /proc/*/stat); processes that exit
    while being read are left out."""
    parents = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(name))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += parents.get(p, [])
    return found


def ids(pid, tid):
    """(uids, gids) of one thread, or None when it is gone."""
    uids = gids = None
    try:
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            for line in f:
                if line.startswith("Uid:"):
                    uids = [int(x) for x in line.split()[1:]]
                elif line.startswith("Gid:"):
                    gids = [int(x) for x in line.split()[1:]]
    except (FileNotFoundError, ProcessLookupError):
        return None
    return uids, gids


class RunAs(unittest.TestCase):
    def test_every_process_runs_as_the_user_and_uploads_are_its(self):
        uid = pwd.getpwnam(USER).pw_uid
        gid = grp.getgrnam(GROUP).gr_gid
        tmp = tempfile.mkdtemp(prefix="netmodels-runas-")
        self.addCleanup(shutil.rmtree, tmp, True)
        root = os.path.join(tmp, "root")
        os.mkdir(root)
        os.chown(root, uid, gid)
        os.chmod(tmp, 0o755)
        args = ["--model", MODEL, "--root", root, "--user", "alice:secret", "--run-as",
                f"{USER}:{GROUP}", "--workers", "2", "--idle-timeout", "30"]
        try:
            srv = Server(*args, listen="127.0.0.1:21")
        except RuntimeError as e:
            if "not available" in str(e):
                self.skipTest(f"model {MODEL}: {e}")
            raise
        with srv:
            self.assertEqual(srv.port, 21)
            with ftplib.FTP() as ftp:
                ftp.connect("127.0.0.1", 21, timeout=TIMEOUT)
                ftp.login("alice", "secret")
                ftp.storbinary("STOR up.bin", io.BytesIO(b"x" * 5000))
                # With the session open, fork has its child and the pools their workers.
                checked = 0
                for p in server_processes(srv.pid):
                    try:
                        tids = os.listdir(f"/proc/{p}/task")
                    except FileNotFoundError:
                        continue
                    for t in tids:
                        got = ids(p, t)
                        if got is None:
                            continue
                        self.assertEqual(got, ([uid] * 4, [gid] * 4), f"pid {p} task {t}")
                        checked += 1
                if MODEL in ("fork", "prefork"):
                    self.assertGreater(len(server_processes(srv.pid)), 1)
                self.assertGreater(checked, 0)
                ftp.quit()
            st = os.stat(os.path.join(root, "up.bin"))
            self.assertEqual((st.st_uid, st.st_gid), (uid, gid))
            with open(f"/proc/{srv.pid}/status") as f:
                groups = [l for l in f if l.startswith("Groups:")][0].split()[1:]
            self.assertEqual(groups, [])  # USER:GROUP: no supplementary groups
            self.assertEqual(srv.stop(), 0)
        self.assertNotIn("running as root", srv.stderr_text)


if __name__ == "__main__":
    if os.geteuid() != 0:
        print("skipped: --run-as needs root to start", file=sys.stderr)
        sys.exit(SKIP)
    if not port_21_free():
        print("skipped: 127.0.0.1:21 is taken", file=sys.stderr)
        sys.exit(SKIP)
    unittest.main(verbosity=2)
