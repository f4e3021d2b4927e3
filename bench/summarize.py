#!/usr/bin/python3
"""Turns bench/run.sh's raw measurements into latest.csv, latest.md and the plots.

Every figure is the median of its repeats. The issue's targets are checked as ratios between
servers measured in the same run, never against numbers from another machine or day.
"""
import argparse
import collections
import datetime
import json
import os
import statistics
import subprocess

POINT_TESTS = ["echo", "ftp-sessions"]
# The idle crowd's x is the number of idle connections (its busy count is fixed).
IDLE_CROWD = "idle-crowd"
# The models that wait for readiness on one loop per thread, uring's rivals in the transfer target.
READINESS_MODELS = {f"netmodels-{m}" for m in ("select", "poll", "epoll", "epoll-et", "reactors")}
# select(2) cannot watch a descriptor at or past FD_SETSIZE: run.sh does not ask it to.
FD_SETSIZE = 1024


def load(raw_path):
    """{(server, test, connections): {metric: [values...]}} and the run order of servers."""
    runs = collections.defaultdict(lambda: collections.defaultdict(list))
    order = []
    with open(raw_path) as raw:
        for line in raw:
            parts = line.rstrip("\n").split("\t", 3)
            if len(parts) != 4:
                continue
            server, test, _rc, text = parts
            try:
                record = json.loads(text)
            except json.JSONDecodeError:
                continue
            if server not in order:
                order.append(server)
            axis = "idle" if test == IDLE_CROWD else "connections"
            key = (server, test, int(record.get(axis, 0)))
            for metric, value in record.items():
                if isinstance(value, (int, float)) and metric != axis:
                    runs[key][metric].append(value)
    return runs, order


def medians(runs):
    return {key: {m: statistics.median(v) for m, v in metrics.items()}
            for key, metrics in runs.items()}


def spread(runs, server, test, x, metric):
    """(min, max) of the repeats, or None."""
    values = runs.get((server, test, x), {}).get(metric)
    return (min(values), max(values)) if values else None


def get(table, server, test, connections, metric):
    return table.get((server, test, connections), {}).get(metric)


def fmt(value, digits=1):
    if value is None:
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def with_spread(value, minmax, digits):
    """The median, then the repeats' min-max when there were several and they differ."""
    if value is None:
        return "–"
    if not minmax or minmax[0] == minmax[1]:
        return fmt(value, digits)
    return f"{fmt(value, digits)} ({fmt(minmax[0], digits)}-{fmt(minmax[1], digits)})"


def point_table(table, servers, test, metric, points, title, digits=1, runs=None, unit="conn",
                blank=None):
    """One row per server, one column per point; with `runs`, each median has its min-max.
    `blank(server, point)` names why a cell was not measured (or returns None)."""
    lines = [f"**{title}**", "",
             "| server | " + " | ".join(f"{p} {unit}".strip() for p in points) + " |",
             "|---|" + "---:|" * len(points)]
    for s in servers:
        row = [get(table, s, test, p, metric) for p in points]
        if all(v is None for v in row):
            continue
        cells = []
        for p, v in zip(points, row):
            why = blank(s, p) if blank and v is None else None
            if why:
                cells.append(why)
            elif runs is not None:
                cells.append(with_spread(v, spread(runs, s, test, p, metric), digits))
            else:
                cells.append(fmt(v, digits))
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    return lines + [""]


def best_model(table, test, connections, metric, servers, lowest=False, where=None):
    candidates = []
    for s in servers:
        if not s.startswith("netmodels-"):
            continue
        v = get(table, s, test, connections, metric)
        if v is None or (where and not where(s)):
            continue
        candidates.append((v, s))
    if not candidates:
        return None, "no netmodels model"
    v, s = (min if lowest else max)(candidates)
    return v, s


def verdict(value, reference, factor, lower_is_better=False, strict=False):
    """(status text) for `value` against `factor` x `reference`."""
    if value is None or reference is None or reference == 0:
        return "not measured"
    bound = factor * reference
    if lower_is_better:
        met = value < bound if strict else value <= bound
        miss = (value - bound) / bound * 100
    else:
        met = value > bound if strict else value >= bound
        miss = (bound - value) / bound * 100
    ratio = value / reference
    return f"**met** ({ratio:.2f}x)" if met else f"**missed** by {miss:.0f}% ({ratio:.2f}x)"


def targets(table, servers, runs=None):
    rows = []

    def add(name, value, ref, factor, detail, lower=False, strict=False, ranges=None):
        """ranges: the (server, test, x, metric) of value and of ref, to say when a missed
        target's repeats overlap (a ratio within the noise)."""
        status = verdict(value, ref, factor, lower, strict)
        if ranges and runs is not None and status.startswith("**missed**"):
            mine, theirs = (spread(runs, *key) for key in ranges)
            if mine and theirs and mine[0] <= theirs[1] and theirs[0] <= mine[1]:
                detail += "; the repeats' ranges overlap"
        rows.append((name, status, detail))

    iperf = get(table, "iperf3", "loopback", 0, "loopback_mib_per_s")
    vs_retr = get(table, "vsftpd", "ftp-transfer", 0, "retr_mib_per_s")
    vs_stor = get(table, "vsftpd", "ftp-transfer", 0, "stor_mib_per_s")
    retr, retr_by = best_model(table, "ftp-transfer", 0, "retr_mib_per_s", servers)
    stor, stor_by = best_model(table, "ftp-transfer", 0, "stor_mib_per_s", servers)
    add("RETR MiB/s of the best model >= 1.2x vsftpd", retr, vs_retr, 1.2,
        f"{retr_by}: {fmt(retr)} vs vsftpd {fmt(vs_retr)} MiB/s")
    add("RETR MiB/s of the best model >= 0.9x iperf3 loopback", retr, iperf, 0.9,
        f"{retr_by}: {fmt(retr)} vs iperf3 {fmt(iperf)} MiB/s")
    add("STOR MiB/s of the best model >= 1.2x vsftpd", stor, vs_stor, 1.2,
        f"{stor_by}: {fmt(stor)} vs vsftpd {fmt(vs_stor)} MiB/s")
    for op in ("RETR", "STOR"):
        metric = f"{op.lower()}_mib_per_s"
        uring = get(table, "netmodels-uring", "ftp-transfer", 0, metric)
        best, best_by = best_model(table, "ftp-transfer", 0, metric, servers,
                                   where=lambda s: s in READINESS_MODELS)
        add(f"{op} MiB/s: uring >= 0.95x the best readiness model", uring, best, 0.95,
            f"{fmt(uring)} vs {best_by} {fmt(best)} MiB/s",
            ranges=[("netmodels-uring", "ftp-transfer", 0, metric),
                    (best_by, "ftp-transfer", 0, metric)])

    def storm_time(server):
        t = get(table, server, "login-storm", 300, "login_storm_s")
        ok = get(table, server, "login-storm", 300, "logged_in")
        return t if ok == 300 else None

    storm, storm_by = best_model(
        table, "login-storm", 300, "login_storm_s", servers, lowest=True,
        where=lambda s: storm_time(s) is not None)
    # A peer that did not get all 300 in before the timeout lost the race, however long the
    # successful ones took.
    for peer, factor, strict, label in (("pyftpdlib", 0.5, False, "<= 0.5x pyftpdlib's time"),
                                        ("vsftpd", 1.0, True, "< vsftpd's time")):
        name = f"300 logins at once {label}"
        peer_time = storm_time(peer)
        peer_in = get(table, peer, "login-storm", 300, "logged_in")
        if peer_time is None and storm is not None and peer_in is not None:
            overflows = get(table, peer, "login-storm", 300, "listen_overflows")
            why = (f"; {fmt(overflows, 0)} accept-queue overflows (its listen backlog)"
                   if overflows else "")
            rows.append((name, f"**met** ({peer} did not finish)",
                         f"{storm_by}: {fmt(storm, 3)} s; {peer}: {fmt(peer_in, 0)} of 300 "
                         f"logged in before the timeout{why}"))
        else:
            add(name, storm, peer_time, factor,
                f"{storm_by}: {fmt(storm, 3)} s vs {peer} {fmt(peer_time, 3)} s", lower=True,
                strict=strict)

    ep_mem = get(table, "netmodels-epoll", "idle-ftp", 300, "server_kib_after")
    py_mem = get(table, "pyftpdlib", "idle-ftp", 300, "server_kib_after")
    add("memory with 300 FTP sessions on epoll <= 0.5x pyftpdlib", ep_mem, py_mem, 0.5,
        f"{fmt(ep_mem, 0)} KiB vs {fmt(py_mem, 0)} KiB", lower=True)
    for model in ("epoll", "uring"):
        per = get(table, f"netmodels-{model}", "idle-ftp", 300, "bytes_per_connection")
        add(f"an idle FTP session on {model} <= 1 KiB", per, 1024, 1.0,
            f"{fmt(per, 0)} B per session (300 sessions against none)", lower=True)

    ep100 = get(table, "netmodels-epoll", "echo", 100, "messages_per_s")
    asio100 = get(table, "asio", "echo", 100, "messages_per_s")
    add("echo msg/s at 100 conn: epoll >= 1.0x Asio (one thread each)", ep100, asio100, 1.0,
        f"{fmt(ep100)} vs {fmt(asio100)} msg/s")
    re100 = get(table, "netmodels-reactors", "echo", 100, "messages_per_s")
    mt100 = get(table, "asio-mt", "echo", 100, "messages_per_s")
    add("echo msg/s at 100 conn: reactors >= 1.0x Asio (a loop per core each)", re100, mt100,
        1.0, f"{fmt(re100)} vs {fmt(mt100)} msg/s")
    for c in (100, 1000):
        ur = get(table, "netmodels-uring", "echo", c, "messages_per_s")
        ep = get(table, "netmodels-epoll", "echo", c, "messages_per_s")
        add(f"echo msg/s at {c} conn: uring >= epoll", ur, ep, 1.0,
            f"{fmt(ur)} vs {fmt(ep)} msg/s")
    re = get(table, "netmodels-reactors", "echo", 1000, "messages_per_s")
    ep = get(table, "netmodels-epoll", "echo", 1000, "messages_per_s")
    add("echo msg/s at 1000 conn: reactors > epoll", re, ep, 1.0,
        f"{fmt(re)} vs {fmt(ep)} msg/s", strict=True)

    # CPU per message, which sharing the machine with the load generator moves least.
    cpu = "server_cpu_s_per_million_msgs"
    for c in (100, 1000):
        asio_cpu = get(table, "asio", "echo", c, cpu)
        for model, factor in (("epoll-et", 1.0), ("uring", 1.0), ("epoll", 1.05)):
            mine = get(table, f"netmodels-{model}", "echo", c, cpu)
            bound = "<= Asio's" if factor == 1.0 else f"<= {factor}x Asio's"
            add(f"echo CPU per message at {c} conn: {model} {bound} (one thread each)", mine,
                asio_cpu, factor, f"{fmt(mine, 2)} vs {fmt(asio_cpu, 2)} s per million",
                lower=True, ranges=[(f"netmodels-{model}", "echo", c, cpu), ("asio", "echo", c, cpu)])
        mine = get(table, "netmodels-reactors", "echo", c, cpu)
        mt_cpu = get(table, "asio-mt", "echo", c, cpu)
        add(f"echo CPU per message at {c} conn: reactors <= Asio-mt's (a loop per core each)",
            mine, mt_cpu, 1.0, f"{fmt(mine, 2)} vs {fmt(mt_cpu, 2)} s per million", lower=True,
            ranges=[("netmodels-reactors", "echo", c, cpu), ("asio-mt", "echo", c, cpu)])
    for model in ("epoll", "uring"):
        idle = [(c, m) for (s, t, c), m in table.items()
                if s == f"netmodels-{model}" and t == "idle-echo"]
        if not idle:
            rows.append((f"10,000 idle on {model} < 2 KiB each", "not measured", ""))
            continue
        c, m = max(idle)
        per = m.get("bytes_per_connection")
        note = "" if c >= 10000 else f" (measured at {c} connections only)"
        rows.append((f"10,000 idle on {model} < 2 KiB each",
                      verdict(per, 2048, 1.0, lower_is_better=True, strict=True),
                      f"{fmt(per, 0)} B per connection, answered "
                      f"{fmt(m.get('answered'), 0)} of {c}{note}"))
    for model in ("epoll", "uring"):
        server = f"netmodels-{model}"
        measured = sorted(c for (sv, t, c) in table if sv == server and t == IDLE_CROWD)
        most = measured[-1] if measured else None
        cpu0 = get(table, server, IDLE_CROWD, 0, "server_cpu_s_per_million_msgs")
        cpu_n = get(table, server, IDLE_CROWD, most, "server_cpu_s_per_million_msgs")
        note = "" if most == 10000 else f" (largest crowd measured: {most})"
        add(f"idle crowd: {model} CPU per message with 10,000 idle <= 1.15x with none",
            cpu_n if most else None, cpu0, 1.15,
            f"{fmt(cpu_n, 2)} vs {fmt(cpu0, 2)} s per million messages{note}", lower=True)
    lines = ["## Targets", "", "| target | result | figures |", "|---|---|---|"]
    lines += [f"| {n} | {v} | {d} |" for n, v, d in rows]
    return lines + [""]


def single_tables(table, servers):
    lines = ["**FTP: one-shot figures**", "",
             "| server | 300 logins (s) | logged in | accept-queue overflows | RETR MiB/s | "
             f"STOR MiB/s | 10 x 10 MiB RETR (s) | 300 idle sessions: KiB total | B/session |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in servers:
        vals = [get(table, s, "login-storm", 300, "login_storm_s"),
                get(table, s, "login-storm", 300, "logged_in"),
                get(table, s, "login-storm", 300, "listen_overflows"),
                get(table, s, "ftp-transfer", 0, "retr_mib_per_s"),
                get(table, s, "ftp-transfer", 0, "stor_mib_per_s"),
                get(table, s, "ftp-parallel", 10, "parallel_s"),
                get(table, s, "idle-ftp", 300, "server_kib_after"),
                get(table, s, "idle-ftp", 300, "bytes_per_connection")]
        if all(v is None for v in vals):
            continue
        digits = [3, 0, 0, 1, 1, 3, 0, 0]
        lines.append(f"| {s} | " + " | ".join(fmt(v, d) for v, d in zip(vals, digits)) + " |")
    lines += ["", "**Idle echo connections: server memory**", "",
              "| server | connections | answered | KiB after | B/connection |",
              "|---|---:|---:|---:|---:|"]
    for (s, t, c), m in sorted(table.items()):
        if t != "idle-echo":
            continue
        lines.append(f"| {s} | {c} | {fmt(m.get('answered'), 0)} | "
                     f"{fmt(m.get('server_kib_after'), 0)} | "
                     f"{fmt(m.get('bytes_per_connection'), 0)} |")
    iperf = get(table, "iperf3", "loopback", 0, "loopback_mib_per_s")
    lines += ["", f"Loopback TCP limit (iperf3, one stream): **{fmt(iperf)} MiB/s**", ""]
    return lines


def hashed_storm_table(table, servers):
    """The login storm with yescrypt-hashed passwords and a logged-in watcher (issue 10)."""
    rows = []
    for s in servers:
        for (server, t, c), m in sorted(table.items()):
            if server == s and t == "hashed-login-storm":
                rows.append((s, c, m))
    if not rows:
        return []
    lines = ["## Hashed login storm", "",
             "N clients log in at once with yescrypt-hashed passwords, then QUIT, while one "
             "session logged in before them sends NOOP every "
             f"{fmt(rows[0][2].get('watch_interval_ms'), 0)} ms. A server that checks passwords "
             "on the loop serving the watcher makes it wait for every check queued before its "
             "NOOP: its worst wait shows it.", "",
             "| server | clients | logged in | storm (s) | hashed logins/s | watcher NOOP p50 (ms) "
             "| p99 (ms) | max (ms) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for s, c, m in rows:
        vals = [m.get("logged_in"), m.get("storm_s"), m.get("logins_per_s"),
                m.get("watch_p50_ms"), m.get("watch_p99_ms"), m.get("watch_max_ms")]
        digits = [0, 3, 1, 2, 1, 1]
        lines.append(f"| {s} | {c} | " + " | ".join(fmt(v, d) for v, d in zip(vals, digits)) + " |")
    return lines + [""]


def write_csv(path, table, runs):
    """One row per figure: its median, the min and max of its repeats (bench/compare.py reads
    them as the spread) and how many repeats there were. `connections` is the idle count for
    the idle crowd."""
    with open(path, "w") as out:
        out.write("server,test,connections,metric,median,min,max,runs\n")
        for (s, t, c), metrics in sorted(table.items()):
            for m, v in sorted(metrics.items()):
                values = runs[(s, t, c)][m]
                out.write(f"{s},{t},{c},{m},{v:g},{min(values):g},{max(values):g},"
                          f"{len(values)}\n")


def idle_crowd_blank(table):
    """Why an idle-crowd cell holds no figure: select past FD_SETSIZE, iterative serving only
    the first idle connection, or busy connections that got no echo at all (a fixed pool's
    workers all held by idle connections)."""
    def why(server, idle):
        if server == "netmodels-select" and idle >= FD_SETSIZE - 16:
            return "FD_SETSIZE"
        if server == "netmodels-iterative" and idle > 0:
            return "one at a time"
        if get(table, server, IDLE_CROWD, idle, "messages_per_s") == 0:
            return "starved"
        return None
    return why


def idle_crowd_section(table, runs, servers):
    points = sorted({c for (_, t, c) in table if t == IDLE_CROWD})
    if not points:
        return []
    busy = next(int(v[0]) for (_, t, _c), m in runs.items() if t == IDLE_CROWD
                for k, v in m.items() if k == "connections")
    # A run whose busy connections got no echo has no CPU per message: none rather than 0.
    for (s, t, c), m in table.items():
        if t == IDLE_CROWD and m.get("messages_per_s") == 0:
            m.pop("server_cpu_s_per_million_msgs", None)
    blank = idle_crowd_blank(table)
    lines = ["## The idle crowd", "",
             f"{busy} busy connections exchange 64-byte messages (closed loop, as in echo) while N "
             "more, opened first, stay connected and send nothing (`echo --idle N`). The busy "
             "load is the same at every N: what grows is only what the server pays to watch "
             "descriptors that say nothing. select and poll hand the kernel every watched "
             "descriptor on every wakeup and scan them all again for the ready few: O(N) per "
             "wakeup. epoll (and io_uring's completions) report only the ready ones: O(ready). "
             "Threads and processes pay per idle connection in memory (a stack, a process), not "
             "per wakeup. Each figure is the median of the repeats, (min-max) beside it.", ""]
    lines += point_table(table, servers, IDLE_CROWD, "server_cpu_s_per_million_msgs", points,
                         "server CPU seconds per million messages, against idle connections", 2,
                         runs, "idle", blank)
    lines += point_table(table, servers, IDLE_CROWD, "messages_per_s", points,
                         f"messages/s of the {busy} busy connections", 0, runs, "idle", blank)
    lines += ["A cell is empty when the server cannot hold the crowd: select watches no "
              f"descriptor at or past FD_SETSIZE ({FD_SETSIZE}); iterative serves the first "
              "idle connection forever; \"starved\": no busy connection got an echo because "
              "every worker of a fixed pool holds an idle one.", ""]
    lines += point_table(table, servers, IDLE_CROWD, "served", points,
                         "busy connections served", 0, None, "idle", blank)
    return lines


def connect_rate_section(table, runs, servers):
    rows = [(s, c, m) for s in servers for (sv, t, c), m in sorted(table.items())
            if sv == s and t == "connect-rate"]
    if not rows:
        return []
    lines = ["## Connection rate", "",
             f"{rows[0][1]} clients each loop: connect, send one 64-byte message, read its echo, "
             "close (`connect-rate`). A connection costs fork its fork() and exit, threads a "
             "clone() and a stack, the pools a hand-off, the event loops an accept and a "
             "registration. Median (min-max) of the repeats.", "",
             "| server | connections/s | server CPU us per connection | p99 cycle (us) "
             "| connect failures |",
             "|---|---:|---:|---:|---:|"]
    for s, c, m in rows:
        cells = [with_spread(m.get("connections_per_s"),
                             spread(runs, s, "connect-rate", c, "connections_per_s"), 0),
                 with_spread(m.get("server_cpu_s_per_million_conns"),
                             spread(runs, s, "connect-rate", c, "server_cpu_s_per_million_conns"),
                             1),
                 fmt(m.get("p99_us"), 0), fmt(m.get("connect_failures"), 0)]
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    return lines + [""]


def write_plot_data(out_dir, table, servers, test, metric, points, xmap=lambda p: p):
    """One gnuplot block per server (separated by two blank lines), its name as column header;
    `xmap` places a point on the x axis (the idle crowd puts N=0 at 1, for a log scale)."""
    path = os.path.join(out_dir, f"{test}-{metric}.dat")
    blocks = 0
    with open(path, "w") as out:
        for s in servers:
            rows = [(p, get(table, s, test, p, metric)) for p in points]
            rows = [(p, v) for p, v in rows if v is not None]
            if not rows:
                continue
            out.write(f'"connections" "{s}"\n')
            for p, v in rows:
                out.write(f"{xmap(p)} {v}\n")
            out.write("\n\n")
            blocks += 1
    return path, blocks


def gnuplot(gp, data, blocks, base, title, ylabel, kind, extra=""):
    for term in ("png", "svg"):
        args = (f"datafile='{data}'; blocks={blocks}; outfile='{base}.{term}'; "
                f"term='{term}'; titletext='{title}'; ylabel='{ylabel}'; kind='{kind}'{extra}")
        subprocess.run(["gnuplot", "-e", args, gp], check=False)


def plot_idle_crowd(gp, out_dir, table, servers):
    points = sorted({c for (_, t, c) in table if t == IDLE_CROWD})
    if not points:
        return []
    # Log x cannot show 0: N=0 sits at 1, labelled 0.
    xtics = "(" + ", ".join(f'\\"{p}\\" {max(p, 1)}' for p in points) + ")"
    # select and poll at 10,000 idle spend 50 times what epoll does: a log y keeps both readable.
    extra = f"; xlabeltext='idle connections'; xticsspec=\"{xtics}\"; ylog=1"
    made = []
    for metric, title, ylabel in (
            ("server_cpu_s_per_million_msgs",
             "idle crowd: server CPU per million messages of the busy connections",
             "CPU seconds per million messages"),
            ("messages_per_s", "idle crowd: messages/s of the busy connections", "messages/s")):
        data, blocks = write_plot_data(out_dir, table, servers, IDLE_CROWD, metric, points,
                                       xmap=lambda p: max(p, 1))
        if blocks:
            gnuplot(gp, data, blocks, os.path.join(out_dir, f"{IDLE_CROWD}-{metric}"), title,
                    ylabel, "lines", extra)
            made.append(f"{IDLE_CROWD}-{metric}")
    return made


def plot_connect_rate(gp, out_dir, table, servers):
    made = []
    for metric, title, ylabel in (
            ("connections_per_s", "connection rate: connect, one echo, close", "connections/s"),
            ("server_cpu_s_per_million_conns", "connection rate: server CPU per connection",
             "CPU microseconds per connection")):
        rows = [(s, get(table, s, "connect-rate", c, metric)) for s in servers
                for (sv, t, c) in sorted(table) if sv == s and t == "connect-rate"]
        rows = [(s, v) for s, v in rows if v is not None]
        if not rows:
            continue
        data = os.path.join(out_dir, f"connect-rate-{metric}.dat")
        with open(data, "w") as out:
            out.write(f'"server" "{metric}"\n')
            for s, v in rows:
                out.write(f'"{s}" {v}\n')
        gnuplot(gp, data, 1, os.path.join(out_dir, f"connect-rate-{metric}"), title, ylabel,
                "bars")
        made.append(f"connect-rate-{metric}")
    return made


def plot(gp, out_dir, table, servers):
    points = sorted({c for (_, t, c) in table if t in POINT_TESTS and c > 0})
    charts = [("echo", "server_cpu_s_per_million_msgs", "echo: server CPU per million messages",
               "CPU seconds per million messages"),
              ("echo", "messages_per_s", "echo: messages/s", "messages/s"),
              ("echo", "p99_us", "echo: p99 latency", "p99 (us)"),
              ("ftp-sessions", "sessions_per_s", "FTP: sessions/s", "sessions/s"),
              ("ftp-sessions", "p99_ms", "FTP: p99 session time", "p99 (ms)")]
    made = []
    for test, metric, title, ylabel in charts:
        data, blocks = write_plot_data(out_dir, table, servers, test, metric, points)
        if blocks == 0:
            continue
        gnuplot(gp, data, blocks, os.path.join(out_dir, f"{test}-{metric}"), title, ylabel,
                "lines")
        made.append(f"{test}-{metric}")
    made += plot_idle_crowd(gp, out_dir, table, servers)
    made += plot_connect_rate(gp, out_dir, table, servers)
    # Memory per connection: one bar per server and protocol.
    if not any(t in ("idle-echo", "idle-ftp") for (_, t, _c) in table):
        return made
    data = os.path.join(out_dir, "memory.dat")
    with open(data, "w") as out:
        out.write('"server" "bytes"\n')
        for (s, t, c), m in sorted(table.items()):
            if t in ("idle-echo", "idle-ftp") and m.get("bytes_per_connection") is not None:
                out.write(f'"{s} {t[5:]} x{c}" {m["bytes_per_connection"]}\n')
    gnuplot(gp, data, 1, os.path.join(out_dir, "memory"), "server memory per idle connection",
            "bytes", "bars")
    made.append("memory")
    return made


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--raw", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--machine", default="")
    parser.add_argument("--commit", default="")
    parser.add_argument("--mode", default="")
    parser.add_argument("--plot", default="")
    parser.add_argument("--pinning", default="",
                        help="how servers and the load generator were placed on cores")
    args = parser.parse_args()

    runs, servers = load(args.raw)
    table = medians(runs)
    os.makedirs(args.out, exist_ok=True)
    write_csv(os.path.join(args.out, "latest.csv"), table, runs)
    points = sorted({c for (_, t, c) in table if t in POINT_TESTS and c > 0})
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    md = ["# netmodels benchmark: latest results", "",
          f"- date: {now}", f"- machine: {args.machine}", f"- commit: `{args.commit}`",
          f"- run: {args.mode}; every figure is the median of its repeats", ""]
    if args.pinning:
        md[-1:-1] = [f"- cores: {args.pinning}"]
    md += ["The load generator (`netmodels bench`) shares the machine's cores with the server: "
           "compare models by the CPU seconds they spend per million messages as well as by "
           "throughput.", ""]
    md += targets(table, servers, runs)
    if points:
        md += echo_and_ftp_sections(table, runs, servers, points)
    one_shot = ("login-storm", "ftp-transfer", "ftp-parallel", "idle-ftp", "idle-echo", "loopback")
    if any(t in one_shot for (_, t, _c) in table):
        md += ["## One-shot figures", ""]
        md += single_tables(table, servers)
    md += hashed_storm_table(table, servers)
    md += idle_crowd_section(table, runs, servers)
    md += connect_rate_section(table, runs, servers)
    if args.plot:
        made = plot(args.plot, args.out, table, servers)
        md += ["## Plots", ""] + [f"![{m}]({m}.svg)" for m in made] + [""]
    with open(os.path.join(args.out, "latest.md"), "w") as out:
        out.write("\n".join(md))


def echo_and_ftp_sections(table, runs, servers, points):
    md = ["## Echo (64-byte messages)", "",
           "The headline is what the server spends per message, which the load generator "
           "sharing the machine moves least; each median has its repeats' min-max beside it.",
           ""]
    md += point_table(table, servers, "echo", "server_cpu_s_per_million_msgs", points,
                      "server CPU seconds per million messages", 2, runs)
    md += point_table(table, servers, "echo", "messages_per_s", points, "messages/s", 0, runs)
    md += point_table(table, servers, "echo", "p99_us", points, "p99 latency (us)", 1, runs)
    # A model with a fixed number of workers (thread-pool, prefork, iterative) serves that many
    # connections and queues or refuses the rest: its messages/s are those few clients' figures.
    md += ["Models with a fixed number of workers serve that many connections at a time and queue "
           "or refuse the rest, so their messages/s at high counts are those few clients' "
           "figures. How many connections got an echo:", ""]
    md += point_table(table, servers, "echo", "served", points, "connections served", 0)
    md += ["## FTP sessions (connect, login, LIST, RETR 64 KiB, QUIT)", ""]
    md += point_table(table, servers, "ftp-sessions", "sessions_per_s", points, "sessions/s")
    md += point_table(table, servers, "ftp-sessions", "p99_ms", points, "p99 session time (ms)")
    md += point_table(table, servers, "ftp-sessions", "failures", points, "failed sessions", 0)
    return md


if __name__ == "__main__":
    main()
