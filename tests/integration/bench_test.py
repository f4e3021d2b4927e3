"""`netmodels bench echo` and `idle` against the Asio echo peer: the table, --json and --csv make
sense (messages flow, p50 <= p99, the server's CPU and memory are read from /proc)."""
import csv
import io
import json
import os
import subprocess
import sys
import unittest

NETMODELS = os.environ["NETMODELS_BIN"]
ASIO_ECHO = os.environ["ASIO_ECHO_BIN"]


class BenchAgainstAsio(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
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


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
