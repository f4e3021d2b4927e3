#!/usr/bin/env python3
"""FTPS load for bench/tls.sh: explicit FTPS (AUTH TLS) clients on asyncio + ssl.

    tls_load.py idle       --port P --ca CERT --user U --password PW -c 300 --server-pid PID
    tls_load.py handshakes --port P --ca CERT -c 4 -d 5 [--procs 2]
    tls_load.py summarize  --raw RAW.tsv --out OUT.md [--machine ...] [--notes FILE]

Each prints one JSON object on stdout (summarize writes OUT.md). The same client, the same
certificate as the only trusted CA, and full handshakes (no session resumption across
connections) for every server.
"""
import argparse
import asyncio
import json
import multiprocessing
import os
import ssl
import statistics
import sys
import time

HOST = "127.0.0.1"


def client_context(ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = True  # the certificate names IP:127.0.0.1
    return ctx


async def read_reply(reader):
    """One FTP reply (multi-line ones too): (code, text)."""
    line = await reader.readline()
    if not line:
        raise ConnectionError("connection closed")
    code = line[:3]
    text = [line]
    if line[3:4] == b"-":
        while True:
            line = await reader.readline()
            if not line:
                raise ConnectionError("connection closed inside a reply")
            text.append(line)
            if line[:3] == code and line[3:4] == b" ":
                break
    return int(code), b"".join(text).decode("latin-1").strip()


async def command(reader, writer, line, want):
    writer.write(line.encode() + b"\r\n")
    await writer.drain()
    code, text = await read_reply(reader)
    if code // 100 != want // 100 and code != want:
        raise RuntimeError(f"{line.split()[0]}: {text[:100]}")
    return code


async def open_tls(ctx, port):
    """connect, greeting, AUTH TLS, handshake: (reader, writer)."""
    reader, writer = await asyncio.open_connection(HOST, port)
    code, text = await read_reply(reader)
    if code != 220:
        raise RuntimeError(f"greeting: {text[:100]}")
    await command(reader, writer, "AUTH TLS", 234)
    await writer.start_tls(ctx, server_hostname=HOST)
    return reader, writer


async def login(reader, writer, user, password):
    code = await command(reader, writer, f"USER {user}", 331)
    if code == 331:
        await command(reader, writer, f"PASS {password}", 230)


async def close(writer):
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), 5)
    except Exception:  # a peer that closes without close_notify: nothing to wait for
        pass


# ---------------------------------------------------------------------------------------------
# idle: server RSS (sum over its process tree) with N logged-in idle TLS sessions minus with 0.
def tree(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def memory_kib(pid):
    """(RSS, PSS) in KiB summed over pid's process tree."""
    rss = pss = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            pass
    return rss, pss


async def idle(args):
    ctx = client_context(args.ca)
    await asyncio.sleep(0.5)
    rss0, pss0 = memory_kib(args.server_pid)
    procs0 = len(tree(args.server_pid))
    sessions, errors = [], []
    sem = asyncio.Semaphore(50)  # the memory of idle sessions, not a storm: 50 logging in at once

    async def one():
        async with sem:
            try:
                reader, writer = await asyncio.wait_for(open_tls(ctx, args.port), args.timeout)
                await asyncio.wait_for(login(reader, writer, args.user, args.password), args.timeout)
                sessions.append((reader, writer))
            except Exception as e:  # noqa: BLE001
                errors.append(f"{type(e).__name__}: {e}"[:120])

    await asyncio.gather(*(one() for _ in range(args.connections)))
    await asyncio.sleep(args.settle)
    rss1, pss1 = memory_kib(args.server_pid)
    procs1 = len(tree(args.server_pid))
    n = len(sessions)
    for reader, writer in sessions:
        try:
            writer.write(b"QUIT\r\n")
        except Exception:  # noqa: BLE001
            pass
    await asyncio.gather(*(close(w) for _, w in sessions))
    result = {
        "test": "idle",
        "connections": args.connections,
        "ok": n,
        "failures": len(errors),
        "rss0_kib": rss0,
        "rss_kib": rss1,
        "pss0_kib": pss0,
        "pss_kib": pss1,
        "processes0": procs0,
        "processes": procs1,
        "rss_per_session_kib": round((rss1 - rss0) / n, 1) if n else None,
        "pss_per_session_kib": round((pss1 - pss0) / n, 1) if n else None,
    }
    if errors:
        result["first_error"] = errors[0]
    return result


# ---------------------------------------------------------------------------------------------
# handshakes: connect + AUTH TLS + handshake + QUIT in a closed loop, c clients per process.
async def handshake_loop(port, ca, concurrency, duration):
    ctx = client_context(ca)
    count, errors = 0, 0
    deadline = time.monotonic() + duration

    async def worker():
        nonlocal count, errors
        while time.monotonic() < deadline:
            writer = None
            try:
                reader, writer = await asyncio.wait_for(open_tls(ctx, port), 10)
                await asyncio.wait_for(command(reader, writer, "QUIT", 221), 10)
                count += 1
            except Exception:  # noqa: BLE001
                errors += 1
                await asyncio.sleep(0.01)
            finally:
                if writer is not None:
                    await close(writer)

    t0 = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count, errors, time.monotonic() - t0


def handshake_proc(port, ca, concurrency, duration, queue):
    cpu0 = time.process_time()
    count, errors, elapsed = asyncio.run(handshake_loop(port, ca, concurrency, duration))
    queue.put((count, errors, elapsed, time.process_time() - cpu0))


def handshakes(args):
    queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=handshake_proc,
                                     args=(args.port, args.ca, args.connections, args.duration,
                                           queue)) for _ in range(args.procs)]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    count = sum(r[0] for r in results)
    elapsed = max(r[2] for r in results)
    return {
        "test": "handshakes",
        "connections": args.connections * args.procs,
        "handshakes": count,
        "failures": sum(r[1] for r in results),
        "seconds": round(elapsed, 2),
        "handshakes_per_s": round(count / elapsed, 1),
        "client_cpu_s": round(sum(r[3] for r in results), 2),
    }


# ---------------------------------------------------------------------------------------------
# summarize: raw lines "server<TAB>test<TAB>repeat<TAB>metric<TAB>value" into a Markdown report.
METRICS = [  # (metric, column title, higher is better)
    ("retr_mib_s", "RETR MiB/s", True),
    ("stor_mib_s", "STOR MiB/s", True),
    ("logins_s", "300 TLS logins, s", False),
    ("idle_kib", "idle TLS session, KiB RSS", False),
    ("idle_pss_kib", "idle TLS session, KiB PSS", False),
    ("handshakes_s", "TLS handshakes/s", True),
    ("idle_procs", "processes with the idle sessions", False),
]


def summarize(args):
    data = {}
    order = []
    extra = {}
    with open(args.raw) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 5:
                continue
            server, test, rep, metric, value = parts[:5]
            if server not in order:
                order.append(server)
            if value in ("", "None"):
                continue
            if metric.startswith("x_"):  # notes: failures, overflows
                extra.setdefault((server, metric), []).append(value)
                continue
            data.setdefault((server, metric), []).append(float(value))

    def cell(server, metric):
        v = data.get((server, metric))
        if not v:
            return "-"
        m = statistics.median(v)
        fmt = (lambda x: f"{x:.0f}") if m >= 100 else (lambda x: f"{x:.2f}" if m < 10 else f"{x:.1f}")
        if len(v) == 1:
            return fmt(m)
        return f"{fmt(m)} ({fmt(min(v))}-{fmt(max(v))})"

    def med(server, metric):
        v = data.get((server, metric))
        return statistics.median(v) if v else None

    out = []
    out.append(f"# FTPS benchmark (issue 11), {args.date}\n")
    out.append(f"Machine: {args.machine}. Commit {args.commit}. Mode: {args.mode}.\n")
    out.append("Median of the repeats, (min-max) beside it. Every server has TLS on, the same "
               "certificate (RSA 2048, self-signed, made by the script) and the same clients.\n")
    out.append("| server | " + " | ".join(t for _, t, _ in METRICS) + " |")
    out.append("|---|" + "---|" * len(METRICS))
    for s in order:
        out.append(f"| {s} | " + " | ".join(cell(s, m) for m, _, _ in METRICS) + " |")
    out.append("")

    # Targets, as ratios to vsftpd in this run.
    nm = [s for s in order if s.startswith("netmodels-")]
    out.append("## Targets (ratios to vsftpd, medians of this run)\n")
    out.append("| target | netmodels | vsftpd | ratio | goal | met |")
    out.append("|---|---|---|---|---|---|")

    def target(label, metric, servers, goal, higher):
        base = med("vsftpd", metric)
        cands = [(med(s, metric), s) for s in servers if med(s, metric) is not None]
        if base is None or not cands:
            out.append(f"| {label} | - | - | - | {goal} | not measured |")
            return
        val, who = max(cands) if higher else min(cands)
        ratio = val / base if base else float("inf")
        ok = ratio >= goal if higher else ratio <= goal
        if ok:
            verdict = "yes"
        elif higher:
            verdict = f"no: {ratio / goal * 100:.0f}% of the goal ({goal * base:.3g} needed)"
        else:
            verdict = f"no: {ratio / goal:.2f}x the allowed ({goal * base:.3g} allowed)"
        out.append(f"| {label} | {who}: {val:.4g} | {base:.4g} | {ratio:.2f}x | "
                   f"{'>=' if higher else '<='} {goal}x | {verdict} |")

    target("RETR MiB/s, best model", "retr_mib_s", nm, 1.2, True)
    target("STOR MiB/s, best model", "stor_mib_s", nm, 1.2, True)
    target("300 TLS logins, s, best model", "logins_s", nm, 0.5, False)
    target("idle TLS session KiB (RSS), epoll", "idle_kib",
           [s for s in nm if s == "netmodels-epoll"], 0.25, False)
    target("idle TLS session KiB (PSS), epoll", "idle_pss_kib",
           [s for s in nm if s == "netmodels-epoll"], 0.25, False)
    out.append("")
    if extra:
        out.append("## Failures and overflows\n")
        for (s, metric), vals in sorted(extra.items()):
            out.append(f"- {s} {metric[2:]}: {', '.join(vals)}")
        out.append("")
    if args.notes and os.path.exists(args.notes):
        with open(args.notes) as f:
            out.append(f.read())
    with open(args.out, "w") as f:
        f.write("\n".join(out) + "\n")
    return {"written": args.out}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("idle", "handshakes"):
        p = sub.add_parser(name)
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--ca", required=True)
        p.add_argument("--user", default="")
        p.add_argument("--password", default="")
        p.add_argument("-c", "--connections", type=int, default=300)
        p.add_argument("--timeout", type=float, default=60)
        p.add_argument("--server-pid", type=int, default=0)
        p.add_argument("--settle", type=float, default=1.0)
        p.add_argument("-d", "--duration", type=float, default=5)
        p.add_argument("--procs", type=int, default=2)
    p = sub.add_parser("summarize")
    p.add_argument("--raw", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--machine", default="")
    p.add_argument("--commit", default="")
    p.add_argument("--mode", default="")
    p.add_argument("--date", default=time.strftime("%Y-%m-%d", time.gmtime()))
    p.add_argument("--notes", default="")
    args = ap.parse_args()
    if args.cmd == "idle":
        res = asyncio.run(idle(args))
    elif args.cmd == "handshakes":
        res = handshakes(args)
    else:
        res = summarize(args)
    print(json.dumps(res))


if __name__ == "__main__":
    sys.exit(main())
