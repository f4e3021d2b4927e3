"""`netmodels bench echo` and `idle` against the Asio echo peer: the table, --json and --csv make
sense (messages flow, p50 <= p99, the server's CPU and memory are read from /proc).
`netmodels bench echo --idle` and `connect-rate` against `netmodels serve --service echo`: the
busy connections are served beside an idle crowd that stays open, each cycle is a connection, and
the server's CPU per message and per connection is reported.
`netmodels bench ftp-login-storm` against `netmodels serve` with a users file of yescrypt hashes:
the watcher and every client log in, and the report has its fields. No timing is asserted.
`netmodels bench ftp-transfer` against `netmodels serve --service ftp`: the file comes down and
goes up whole, and the server's CPU per GiB is reported for each direction.
`netmodels bench ftp-sessions --login-storm --tls` against a server that requires TLS: every
client gets in (so each did AUTH TLS and a handshake), an untrusted certificate fails every one.

Arguments select test classes (e.g. `bench_test.py FtpLoginStorm`); none runs them all."""
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from netmodels_server import Server, make_certificate  # noqa: E402

NETMODELS = os.environ["NETMODELS_BIN"]
ASIO_ECHO = os.environ.get("ASIO_ECHO_BIN", "")


class BenchAgainstAsio(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not ASIO_ECHO:
            raise unittest.SkipTest("ASIO_ECHO_BIN not set")
        cls.server = subprocess.Popen([ASIO_ECHO, "--listen", "127.0.0.1:0", "--threads", "1"],
                                      stdout=subprocess.PIPE, text=True)
        line = cls.server.stdout.readline().strip()
        assert line.startswith("listening on "), line
        cls.host = line.split()[-1]

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(timeout=10)

    def bench(self, *args):
        result = subprocess.run(
            [NETMODELS, "bench", *args, "--host", self.host, "--server-pid", str(self.server.pid)],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("bench:", result.stderr)  # progress goes to stderr, not into the results
        return result.stdout

    def check_echo(self, row):
        self.assertEqual(row["mode"], "echo")
        self.assertGreater(float(row["messages"]), 0)
        self.assertGreater(float(row["messages_per_s"]), 0)
        self.assertGreater(float(row["p50_us"]), 0)
        self.assertLessEqual(float(row["p50_us"]), float(row["p99_us"]))
        self.assertLessEqual(float(row["p99_us"]), float(row["p999_us"]))
        self.assertLessEqual(float(row["p999_us"]), float(row["max_us"]))
        self.assertEqual(int(float(row["connected"])), 4)
        self.assertEqual(int(float(row["served"])), 4)
        self.assertEqual(int(float(row["broken"])), 0)
        self.assertGreaterEqual(float(row["server_cpu_s"]), 0)

    def test_echo_json(self):
        out = self.bench("echo", "-c", "4", "-s", "100", "-d", "1", "--warmup", "0.2",
                         "--threads", "2", "--json")
        self.check_echo(json.loads(out))

    def test_echo_csv(self):
        out = self.bench("echo", "-c", "4", "-s", "4096", "-d", "0.5", "--warmup", "0.1", "--csv")
        rows = list(csv.DictReader(io.StringIO(out)))
        self.assertEqual(len(rows), 1)
        self.check_echo(rows[0])

    def test_echo_table(self):
        out = self.bench("echo", "-c", "4", "-d", "0.5", "--warmup", "0.1")
        table = {}
        for line in out.splitlines()[2:]:
            words = line.split()
            table[words[0]] = words[1]
        self.assertEqual(table["mode"], "echo")
        self.assertGreater(int(table["messages"]), 0)
        self.assertLessEqual(float(table["p50_us"]), float(table["p99_us"]))

    def test_idle_reads_server_memory(self):
        out = self.bench("idle", "-c", "200", "--timeout", "10", "--json")
        row = json.loads(out)
        self.assertEqual(row["opened"], 200)
        self.assertEqual(row["answered"], 200)
        self.assertEqual(row["failures"], 0)
        self.assertGreater(row["server_kib_after"], 0)
        self.assertGreater(row["bytes_per_connection"], 0)

    def test_refused_connections_fail_cleanly(self):
        result = subprocess.run([NETMODELS, "bench", "echo", "--host", "127.0.0.1:1", "-d", "0.2",
                                 "--warmup", "0", "--json"],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 1)
        row = json.loads(result.stdout)
        self.assertEqual(row["messages"], 0)
        self.assertEqual(row["connect_failures"], row["connections"])


class IdleCrowdAndConnectRate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        model = os.environ.get("NETMODELS_SERVER_MODEL", "epoll")
        cls.server = Server("--model", model, "--service", "echo", "--quiet")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def bench(self, *args):
        result = subprocess.run(
            [NETMODELS, "bench", *args, "--host", f"{self.server.host}:{self.server.port}",
             "--server-pid", str(self.server.pid), "--json"],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    def test_busy_connections_are_served_beside_an_idle_crowd(self):
        row = self.bench("echo", "-c", "4", "--idle", "300", "-d", "1", "--warmup", "0.2")
        self.assertEqual(row["mode"], "echo")
        self.assertEqual(row["idle"], 300)
        self.assertEqual(row["idle_opened"], 300)
        self.assertEqual(row["idle_still_open"], 300)  # an echo server closes none of them
        self.assertEqual(row["served"], 4)
        self.assertGreater(row["messages_per_s"], 0)
        self.assertGreater(row["server_cpu_s"], 0)
        self.assertGreater(row["server_cpu_s_per_million_msgs"], 0)

    def test_no_idle_fields_without_a_crowd(self):
        row = self.bench("echo", "-c", "2", "-d", "0.3", "--warmup", "0.1")
        self.assertNotIn("idle", row)

    def test_connect_rate_counts_connections(self):
        row = self.bench("connect-rate", "-c", "3", "-d", "1", "--warmup", "0.2")
        self.assertEqual(row["mode"], "connect-rate")
        self.assertEqual(row["connections"], 3)
        self.assertGreater(row["cycles"], 0)
        self.assertGreater(row["connections_per_s"], 0)
        self.assertEqual(row["broken"], 0)
        self.assertLessEqual(row["p50_us"], row["p99_us"])
        self.assertGreater(row["server_cpu_s_per_million_conns"], 0)


class FtpLoginStorm(unittest.TestCase):
    PASSWORD = "storm-pw"

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="nm-bench-storm-")
        root = os.path.join(cls.dir, "root")
        os.mkdir(root)
        users = os.path.join(cls.dir, "users")
        line = subprocess.run([NETMODELS, "passwd", "storm", "--root", root, "--rights", "r"],
                              input=cls.PASSWORD + "\n", capture_output=True, text=True,
                              timeout=30, check=True).stdout
        assert line.split(":")[1].startswith("$y$"), line  # yescrypt, the slow hash under test
        with open(users, "w") as f:
            f.write(line)
        model = os.environ.get("NETMODELS_SERVER_MODEL", "epoll")
        cls.server = Server("--model", model, "--service", "ftp", "--root", root,
                            "--users", users, "--quiet")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def storm(self, password, *args):
        return subprocess.run(
            [NETMODELS, "bench", "ftp-login-storm", "--host",
             f"{self.server.host}:{self.server.port}", "--user", "storm", "--password", password,
             "--server-pid", str(self.server.pid), "--timeout", "20", *args],
            capture_output=True, text=True, timeout=60)

    def test_every_login_succeeds_and_the_watcher_is_timed(self):
        result = self.storm(self.PASSWORD, "-c", "8", "--watch-interval-ms", "5", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        row = json.loads(result.stdout)
        self.assertEqual(row["mode"], "ftp-login-storm")
        self.assertEqual(row["connections"], 8)
        self.assertEqual(row["logged_in"], 8)
        self.assertEqual(row["failed_logins"], 0)
        self.assertGreater(row["storm_s"], 0)
        self.assertGreater(row["logins_per_s"], 0)
        self.assertEqual(row["watch_interval_ms"], 5)
        self.assertEqual(row["watch_ok"], 1)
        self.assertGreaterEqual(row["watch_noops"], 1)
        self.assertGreater(row["watch_p50_ms"], 0)
        self.assertLessEqual(row["watch_p50_ms"], row["watch_p99_ms"])
        self.assertLessEqual(row["watch_p99_ms"], row["watch_max_ms"])
        self.assertGreaterEqual(row["server_cpu_s"], 0)

    def test_csv_has_the_same_fields(self):
        result = self.storm(self.PASSWORD, "-c", "2", "--csv")
        self.assertEqual(result.returncode, 0, result.stderr)
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        self.assertEqual(len(rows), 1)
        for field in ("storm_s", "logins_per_s", "failed_logins", "watch_p50_ms", "watch_p99_ms",
                      "watch_max_ms"):
            self.assertIn(field, rows[0])
        self.assertEqual(rows[0]["logged_in"], "2")

    def test_a_wrong_password_fails_the_run(self):
        result = self.storm("not-the-password", "-c", "2", "--json")
        self.assertEqual(result.returncode, 1)
        self.assertIn("netmodels bench:", result.stderr)


class FtpTransfer(unittest.TestCase):
    SIZE = 4 << 20

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="nm-bench-transfer-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.root = os.path.join(self.dir, "root")
        os.makedirs(os.path.join(self.root, "upload"))
        with open(os.path.join(self.root, "big.bin"), "wb") as f:
            f.write(os.urandom(self.SIZE))
        model = os.environ.get("NETMODELS_SERVER_MODEL", "epoll")
        self.server = Server("--model", model, "--service", "ftp", "--root", self.root,
                             "--user", "bench:bench", "--quiet")
        self.addCleanup(self.server.stop)

    def test_both_directions_move_every_byte_and_report_server_cpu(self):
        result = subprocess.run(
            [NETMODELS, "bench", "ftp-transfer", "--file", "big.bin", "--stor-file",
             "upload/up.bin", "--size", str(self.SIZE), "--host",
             f"{self.server.host}:{self.server.port}", "--user", "bench", "--password", "bench",
             "--server-pid", str(self.server.pid), "--json"],
            capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        row = json.loads(result.stdout)
        self.assertEqual(row["failures"], 0)
        self.assertEqual(row["retr_mib"], 4)
        self.assertEqual(row["stor_mib"], 4)
        self.assertEqual(os.path.getsize(os.path.join(self.root, "upload", "up.bin")), self.SIZE)
        self.assertGreater(row["retr_mib_per_s"], 0)
        self.assertGreater(row["stor_mib_per_s"], 0)
        self.assertGreaterEqual(row["retr_server_cpu_s_per_gib"], 0)
        self.assertGreaterEqual(row["stor_server_cpu_s_per_gib"], 0)

    def test_a_missing_file_fails_the_run(self):
        result = subprocess.run(
            [NETMODELS, "bench", "ftp-transfer", "--file", "absent.bin", "--stor-file",
             "upload/up.bin", "--size", "1M", "--host", f"{self.server.host}:{self.server.port}",
             "--user", "bench", "--password", "bench", "--json"],
            capture_output=True, text=True, timeout=120)
        self.assertNotEqual(result.returncode, 0)


class TlsLoginStorm(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="nm-bench-tls-")
        root = os.path.join(cls.dir, "root")
        os.mkdir(root)
        cls.cert, key = make_certificate(cls.dir, "server", "127.0.0.1", "IP:127.0.0.1")
        cls.other, _ = make_certificate(cls.dir, "other", "127.0.0.1", "IP:127.0.0.1")
        model = os.environ.get("NETMODELS_SERVER_MODEL", "epoll")
        # --tls required: a USER before AUTH TLS gets 530, so a login proves the handshake.
        cls.server = Server("--model", model, "--service", "ftp", "--root", root,
                            "--user", "tls:tls-pw", "--tls-cert", cls.cert, "--tls-key", key,
                            "--tls", "required", "--quiet")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def storm(self, *args):
        return subprocess.run(
            [NETMODELS, "bench", "ftp-sessions", "--host",
             f"{self.server.host}:{self.server.port}", "--user", "tls", "--password", "tls-pw",
             "--timeout", "20", "--json", *args], capture_output=True, text=True, timeout=60)

    def test_every_client_logs_in_over_tls(self):
        result = self.storm("--login-storm", "--tls", "--ca-file", self.cert, "-c", "40")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("(AUTH TLS)", result.stderr)
        row = json.loads(result.stdout)
        self.assertEqual(row["mode"], "login-storm")
        self.assertEqual(row["connections"], 40)
        self.assertEqual(row["logged_in"], 40)
        self.assertEqual(row["failures"], 0)
        self.assertGreater(row["login_storm_s"], 0)

    def test_without_tls_the_server_refuses_every_login(self):
        result = self.storm("--login-storm", "-c", "3")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(json.loads(result.stdout)["logged_in"], 0)
        self.assertIn("530", result.stderr)

    def test_an_untrusted_certificate_fails_every_client(self):
        result = self.storm("--login-storm", "--tls", "--ca-file", self.other, "-c", "3")
        self.assertEqual(result.returncode, 1)
        row = json.loads(result.stdout)
        self.assertEqual(row["logged_in"], 0)
        self.assertEqual(row["failures"], 3)
        self.assertIn("certificate not accepted", result.stderr)

    def test_tls_is_refused_for_the_session_loop(self):
        result = self.storm("--tls", "-c", "1", "-d", "1")
        self.assertEqual(result.returncode, 1)
        self.assertIn("--login-storm only", result.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv, verbosity=2)
