"""bench/compare.py on small made-up runs: a change beyond both runs' spread is reported in the
right direction, one inside the spread is not, and every CSV shape it reads gives the same answer.

Usage: bench_compare_test.py (finds bench/compare.py from this file's place in the tree)."""
import contextlib
import io
import os
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import compare  # noqa: E402

HEADER = "server,test,connections,metric,median,min,max,runs\n"
OLD = HEADER + (
    # messages/s 100,000 (95,000-104,000); CPU per message 10 (9.5-10.5)
    "netmodels-epoll,echo,100,messages_per_s,100000,95000,104000,3\n"
    "netmodels-epoll,echo,100,server_cpu_s_per_million_msgs,10,9.5,10.5,3\n"
    "netmodels-poll,echo,100,messages_per_s,80000,70000,90000,3\n"
    "netmodels-poll,echo,100,p99_us,500,450,560,3\n"
    "netmodels-uring,connect-rate,4,connections_per_s,9000,8800,9300,3\n"
    "netmodels-uring,connect-rate,4,cycles,18000,17600,18600,3\n")
NEW = HEADER + (
    # epoll: 20% more CPU per message, well clear of both ranges: slower.
    "netmodels-epoll,echo,100,messages_per_s,101000,97000,103000,3\n"
    "netmodels-epoll,echo,100,server_cpu_s_per_million_msgs,12,11.8,12.3,3\n"
    # poll: its median moved 10%, but inside the old run's 70,000-90,000: noise.
    "netmodels-poll,echo,100,messages_per_s,88000,84000,91000,3\n"
    # poll's p99 fell well below the old range: faster.
    "netmodels-poll,echo,100,p99_us,300,280,320,3\n"
    "netmodels-uring,connect-rate,4,connections_per_s,9100,8900,9400,3\n"
    # a count with no good direction: not judged unless --all.
    "netmodels-uring,connect-rate,4,cycles,30000,29000,31000,3\n")


def write(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def per_repeat(text):
    """The same figures as one row per repeat (min, median, max), the other shape compare reads."""
    lines = ["server,test,connections,metric,value"]
    for row in text.splitlines()[1:]:
        server, test, conn, metric, median, low, high, _ = row.split(",")
        lines += [f"{server},{test},{conn},{metric},{v}" for v in (low, median, high)]
    return "\n".join(lines) + "\n"


class CompareTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.old = write(self.dir.name, "old.csv", OLD)
        self.new = write(self.dir.name, "new.csv", NEW)

    def tearDown(self):
        self.dir.cleanup()

    def verdicts(self, old, new, **kw):
        changes, _ = compare.compare(compare.read(old), compare.read(new), **kw)
        return {(k[0], k[3]): v for v, k, *_ in changes}

    def test_a_real_change_is_flagged_with_its_direction(self):
        found = self.verdicts(self.old, self.new)
        self.assertEqual(found[("netmodels-epoll", "server_cpu_s_per_million_msgs")], "slower")
        self.assertEqual(found[("netmodels-poll", "p99_us")], "faster")

    def test_a_change_within_the_spread_is_not(self):
        found = self.verdicts(self.old, self.new)
        self.assertNotIn(("netmodels-poll", "messages_per_s"), found)
        self.assertNotIn(("netmodels-epoll", "messages_per_s"), found)
        self.assertNotIn(("netmodels-uring", "connections_per_s"), found)
        self.assertEqual(len(found), 2, found)

    def test_metrics_without_a_direction_only_with_all(self):
        self.assertNotIn(("netmodels-uring", "cycles"), self.verdicts(self.old, self.new))
        found = self.verdicts(self.old, self.new, everything=True)
        self.assertEqual(found[("netmodels-uring", "cycles")], "changed")

    def test_per_repeat_rows_give_the_same_verdicts(self):
        old = write(self.dir.name, "old-repeats.csv", per_repeat(OLD))
        new = write(self.dir.name, "new-repeats.csv", per_repeat(NEW))
        self.assertEqual(self.verdicts(old, new), self.verdicts(self.old, self.new))

    def test_no_spread_falls_back_to_min_change(self):
        # Older results carry a median only: a 3% move is under the 5% floor, a 20% one is not.
        old = write(self.dir.name, "a.csv", "server,test,connections,metric,median,runs\n"
                    "s,echo,1,messages_per_s,100,1\ns,echo,1,p99_us,100,1\n")
        new = write(self.dir.name, "b.csv", "server,test,connections,metric,median,runs\n"
                    "s,echo,1,messages_per_s,103,1\ns,echo,1,p99_us,120,1\n")
        self.assertEqual(self.verdicts(old, new), {("s", "p99_us"): "slower"})

    def test_command_line_report_and_exit_status(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(compare.main([self.old, self.new]), 0)
            self.assertEqual(compare.main([self.old, self.new, "--fail-on-slower"]), 1)
            self.assertEqual(compare.main([self.old, self.old, "--fail-on-slower"]), 0)
        text = out.getvalue()
        self.assertIn("slower (1):", text)
        self.assertIn("netmodels-epoll echo 100 server_cpu_s_per_million_msgs: 10 (9.5-10.5) -> "
                      "12 (11.8-12.3) (+20.0%)", text)
        self.assertIn("faster (1):", text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
