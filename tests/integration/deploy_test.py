#!/usr/bin/env python3
"""What the installation ships, checked with Debian's own tools: the man pages render with
man-db (`man -l`) and have their sections, `systemd-analyze verify` accepts both units, and
fail2ban-regex finds exactly the failed logins of a log the server wrote.

Environment: NETMODELS_BIN, NETMODELS_SOURCE_DIR, NETMODELS_BUILD_DIR. A test whose tool is
missing is skipped with the package to install.
"""

import ftplib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from netmodels_server import Server, binary  # noqa: E402

SOURCE = os.environ.get("NETMODELS_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
BUILD = os.environ.get("NETMODELS_BUILD_DIR", os.path.dirname(binary()))
TIMEOUT = 20


def need(tool, package):
    if shutil.which(tool) is None:
        raise unittest.SkipTest(f"{tool} missing (apt-get install {package})")


def render(page):
    env = dict(os.environ, MANWIDTH="100", MAN_KEEP_FORMATTING="0", LC_ALL="C.UTF-8")
    r = subprocess.run(["man", "-l", page], capture_output=True, text=True, env=env, timeout=60)
    if r.returncode != 0:
        raise AssertionError(f"man -l {page}: {r.stderr}")
    return re.sub(r".\x08", "", r.stdout)  # no overstrike, should the pager keep it


class ManPages(unittest.TestCase):
    def setUp(self):
        need("man", "man-db")
        self.dir = os.path.join(BUILD, "man")
        if not os.path.exists(os.path.join(self.dir, "netmodels.1")):
            self.skipTest("no man pages built (apt-get install help2man, then configure again)")

    def test_netmodels_1_has_a_section_per_subcommand(self):
        text = render(os.path.join(self.dir, "netmodels.1"))
        headings = set(re.findall(r"(?m)^([A-Z][A-Z ]+)$", text))
        for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "SERVE", "FTP", "BENCH",
                        "PASSWD", "SIGNALS", "EXIT STATUS", "SEE ALSO"):
            self.assertIn(section, headings)
        # From the binary's own help: options of every subcommand are there.
        for option in ("--run-as", "--sandbox", "--log-format", "--xferlog", "--check-config"):
            self.assertIn(option, text)
        version = subprocess.run([binary(), "--version"], capture_output=True, text=True).stdout
        self.assertIn(version.split()[1], text)  # the footer names the version

    def test_netmodels_toml_5_lists_the_keys(self):
        text = render(os.path.join(self.dir, "netmodels.toml.5"))
        self.assertRegex(text, r"^NETMODELS\.TOML\(5\)")
        for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXAMPLE", "SEE ALSO"):
            self.assertRegex(text, rf"(?m)^{section}$")
        self.assertIn("netmodels.toml - configuration file", text)
        for option in ("--model", "--listen", "--root", "--pasv-ports"):
            self.assertIn(option, text)


class SystemdUnits(unittest.TestCase):
    def test_systemd_analyze_verify_accepts_both_units(self):
        need("systemd-analyze", "systemd")
        tmp = tempfile.mkdtemp(prefix="netmodels-units-")
        self.addCleanup(shutil.rmtree, tmp, True)
        # verify wants ExecStart's binary to exist: the built one stands in for the installed.
        units = os.path.join(BUILD, "deploy", "systemd")
        for name, target in (("netmodels.service", "netmodels.service"),
                             ("netmodels@.service", "netmodels@.service")):
            with open(os.path.join(units, name)) as f:
                text = f.read()
            installed = re.search(r"ExecStart=(\S+)", text).group(1)
            with open(os.path.join(tmp, target), "w") as f:
                f.write(text.replace(installed, binary()))
        for unit in ("netmodels.service", "netmodels@demo.service"):
            path = os.path.join(tmp, unit)
            if unit != "netmodels.service":
                os.symlink("netmodels@.service", path)
            # --man=no: the pages are not installed here (scripts/package-test.sh verifies the
            # installed units with them).
            r = subprocess.run(["systemd-analyze", "verify", "--man=no", path],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertNotIn(unit, r.stderr)  # no warning about our unit
        for name in ("netmodels.service", "netmodels@.service"):
            with open(os.path.join(tmp, name)) as f:
                text = f.read()
            for line in ("Type=notify", "ExecReload=/bin/kill -HUP $MAINPID",
                         "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
                         "CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "User=netmodels"):
                self.assertIn(line, text)
            self.assertRegex(text, r"ExecStartPre=\S+ serve --check-config --config ")
            self.assertRegex(text, r"(?m)^ReadWritePaths=")


class Fail2ban(unittest.TestCase):
    def test_filter_matches_exactly_the_failed_logins(self):
        need("fail2ban-regex", "fail2ban")
        for log_format in ("logfmt", "json"):
            with self.subTest(log_format=log_format):
                self.check_failed_logins(log_format)

    def check_failed_logins(self, log_format):
        tmp = tempfile.mkdtemp(prefix="netmodels-f2b-")
        self.addCleanup(shutil.rmtree, tmp, True)
        root = os.path.join(tmp, "root")
        os.mkdir(root)
        log = os.path.join(tmp, "netmodels.log")
        with Server("--root", root, "--user", "alice:secret", "--log-file", log,
                    "--log-format", log_format, "--model", "threads") as srv:
            for i in range(3):
                with ftplib.FTP() as ftp:
                    ftp.connect(srv.host, srv.port, timeout=TIMEOUT)
                    with self.assertRaises(ftplib.error_perm):
                        ftp.login("alice", f"wrong{i}")
            with ftplib.FTP() as ftp:
                ftp.connect(srv.host, srv.port, timeout=TIMEOUT)
                ftp.login("alice", "secret")
                ftp.nlst()
                ftp.quit()
            self.assertEqual(srv.stop(), 0)
        conf = os.path.join(SOURCE, "deploy", "fail2ban", "filter.d", "netmodels.conf")
        r = subprocess.run(["fail2ban-regex", log, conf], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(log) as f:
            total = len(f.read().splitlines())
        self.assertIn(f"Lines: {total} lines, 0 ignored, 3 matched, {total - 3} missed",
                      r.stdout)
        r = subprocess.run(["fail2ban-regex", "-o", "ip", log, conf], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(r.stdout.split(), ["127.0.0.1"] * 3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
