#!/usr/bin/env python3
"""Steady HTTP load and its analysis for bench/pg_outage.sh (standard library only).

    outage_load.py run --base URL --duration S --threads N --interval-ms MS --paths P,P --out CSV
        Each thread sends GETs in turn over the paths on one keep-alive connection, starting a
        request every MS milliseconds (or as soon as the previous one ends, when it takes
        longer), until S seconds have passed (or --until-file FILE exists). The bearer token is read from $OUTAGE_TOKEN (not
        argv, so that it stays out of the process list). One CSV row per request: path, start
        and end (Unix time, seconds), status (0 when no HTTP answer came: the error column says
        why), and the Retry-After header.

    outage_load.py outage CSV --stop T0 --stopped T1 --start T2 --started T3
        The real stop/start of PostgreSQL: T0/T1 when pg_ctl stop was called/returned, T2/T3 for
        pg_ctl start.
    outage_load.py terminate CSV --kill T0 --killed T1
        pg_terminate_backend of the server's connections, called at T0, returned at T1.
    outage_load.py steady CSV_WITHOUT CSV_WITH
        Steady-state latency of the same load without and with --db-check-on-checkout.

The analyses only report; they never fail on what the server answered.
"""

import argparse
import csv
import http.client
import os
import sys
import threading
import time
from collections import Counter

FIELDS = ["thread", "path", "start", "end", "status", "retry_after", "error"]


def run(args):
    token = os.environ.get("OUTAGE_TOKEN", "")
    host_port = args.base.removeprefix("http://").rstrip("/")
    host, _, port = host_port.partition(":")
    paths = [p for p in args.paths.split(",") if p]
    deadline = time.time() + args.duration
    interval = args.interval_ms / 1000.0
    rows = []
    lock = threading.Lock()

    def worker(n):
        conn = None
        mine = []
        i = n  # threads start at different paths so that the mix is even at any moment
        next_start = time.time()
        while True:
            now = time.time()
            if now >= deadline or (args.until_file and os.path.exists(args.until_file)):
                break
            if next_start > now:
                time.sleep(next_start - now)
            path = paths[i % len(paths)]
            i += 1
            start = time.time()
            next_start = start + interval
            status, retry_after, error = 0, "", ""
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(host, int(port), timeout=args.timeout)
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                retry_after = resp.getheader("Retry-After") or ""
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except Exception as e:  # noqa: BLE001 - every failure is a measured outcome
                error = type(e).__name__
                if conn is not None:
                    conn.close()
                conn = None
            mine.append([n, path, f"{start:.6f}", f"{time.time():.6f}", status, retry_after, error])
        if conn is not None:
            conn.close()
        with lock:
            rows.extend(mine)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(args.duration + args.timeout + 30)
    rows.sort(key=lambda r: float(r[2]))
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(FIELDS)
        w.writerows(rows)
    took = max(time.time() - (deadline - args.duration), 1e-9)
    print(f"    load: {len(rows)} requests in {took:.1f} s over {args.threads} threads "
          f"({len(rows) / took:.0f}/s), paths {','.join(paths)}")


def load(path):
    with open(path, newline="") as f:
        out = []
        for r in csv.DictReader(f):
            r["start"] = float(r["start"])
            r["end"] = float(r["end"])
            r["status"] = int(r["status"])
            r["latency"] = r["end"] - r["start"]
            out.append(r)
        return out


def pct(values, p):
    """Nearest-rank percentile (p in 0..100) of latencies, in milliseconds."""
    if not values:
        return float("nan")
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k] * 1000.0


def status_line(rows):
    c = Counter(r["status"] if r["status"] else f"none({r['error']})" for r in rows)
    return ", ".join(f"{k}: {v}" for k, v in sorted(c.items(), key=lambda kv: str(kv[0])))


def whole_run(rows):
    """Lines about the whole run: every status, 500s, other statuses, Retry-After on 503s."""
    s503 = [r for r in rows if r["status"] == 503]
    s500 = [r for r in rows if r["status"] == 500]
    other = [r for r in rows if r["status"] not in (200, 503)]
    no_ra = [r for r in s503 if not r["retry_after"]]
    ra_values = sorted({r["retry_after"] for r in s503 if r["retry_after"]})
    lines = [
        f"whole run: {len(rows)} requests; statuses {status_line(rows)}",
        f"500s over the whole run: {len(s500)}"
        + (f" ({', '.join(sorted({r['path'] for r in s500}))})" if s500 else ""),
        f"statuses other than 200/503: {len(other)}"
        + (f" ({status_line(other)})" if other else ""),
        f"503s with Retry-After: {len(s503) - len(no_ra)} of {len(s503)}"
        + (f" (values {','.join(ra_values)})" if ra_values else "")
        + (" - every 503 carried it" if s503 and not no_ra else "")
        + (f" - {len(no_ra)} WITHOUT it" if no_ra else ""),
    ]
    return lines


def first_200_after(rows, t):
    """Seconds from t to the end of the first 200 answer that ended after t (None if none)."""
    ends = [r["end"] for r in rows if r["status"] == 200 and r["end"] > t]
    return (min(ends) - t) if ends else None


def first_200_started_after(rows, t):
    """Seconds from t to the end of the first 200 to a request sent after t."""
    ends = [r["end"] for r in rows if r["status"] == 200 and r["start"] >= t]
    return (min(ends) - t) if ends else None


def fmt_s(v):
    return "never" if v is None else f"{v:.2f} s"


def outage(args):
    rows = load(args.csv)
    # The outage proper: sent after pg_ctl stop returned and before pg_ctl start was called, when
    # no connection to PostgreSQL can succeed. Requests sent while pg_ctl stop or start ran are
    # counted apart (some of them are served).
    window = [r for r in rows if args.stopped <= r["start"] < args.start]
    stopping = [r for r in rows if args.stop <= r["start"] < args.stopped]
    starting = [r for r in rows if args.start <= r["start"] < args.started]
    w503 = [r for r in window if r["status"] == 503]
    # A request sent shortly before the restart may wait in the pool (up to --db-timeout-ms) and
    # be served once PostgreSQL is back.
    waited_200 = [r for r in window if r["status"] == 200 and r["end"] >= args.started]
    lat = [r["latency"] for r in window]
    after = [r for r in rows if r["start"] >= args.started]
    # Where the answers settle: the last non-200 sent after the restart.
    bad_after = [r for r in after if r["status"] != 200]
    share = (100.0 * len(w503) / len(window)) if window else float("nan")
    out = [
        f"pg_ctl stop -m fast took {args.stopped - args.stop:.2f} s; down {args.start - args.stopped:.2f} s; "
        f"pg_ctl start took {args.started - args.start:.2f} s",
        f"during the outage (sent between pg_ctl stop returned and pg_ctl start called, "
        f"{args.start - args.stopped:.1f} s): {len(window)} requests, {len(w503)} answered 503 "
        f"({share:.1f}%); statuses {status_line(window) if window else '-'}"
        + (f"; {len(waited_200)} of the 200s waited in the pool and were served after the restart"
           if waited_200 else ""),
        f"latency during the outage: p50 {pct(lat, 50):.0f} ms, p99 {pct(lat, 99):.0f} ms, "
        f"max {max(lat) * 1000 if lat else float('nan'):.0f} ms",
        f"sent while pg_ctl stop ran: {len(stopping)} ({status_line(stopping) if stopping else '-'}); "
        f"while pg_ctl start ran: {len(starting)} ({status_line(starting) if starting else '-'})",
        f"first 200 after pg_ctl start returned: {fmt_s(first_200_after(rows, args.started))} "
        f"(to a request sent after it: {fmt_s(first_200_started_after(rows, args.started))})",
        f"after the restart: {len(after)} requests, {len(bad_after)} not 200"
        + (f" ({status_line(bad_after)}; last one sent {bad_after[-1]['start'] - args.started:.2f} s after start returned)"
           if bad_after else ""),
    ]
    out += whole_run(rows)
    print("\n".join("    " + line for line in out))


def terminate(args):
    rows = load(args.csv)
    after = [r for r in rows if r["start"] >= args.kill]
    a503 = [r for r in after if r["status"] == 503]
    bad = [r for r in after if r["status"] != 200]
    out = [
        f"pg_terminate_backend took {args.killed - args.kill:.3f} s",
        f"after it: {len(after)} requests, {len(a503)} answered 503, {len(bad)} not 200"
        + (f" ({status_line(bad)}; last one sent {bad[-1]['start'] - args.kill:.2f} s after the kill)" if bad else ""),
        f"first 200 after the kill: {fmt_s(first_200_after(rows, args.killed))} "
        f"(to a request sent after it: {fmt_s(first_200_started_after(rows, args.killed))})",
    ]
    out += whole_run(rows)
    print("\n".join("    " + line for line in out))


def steady(args):
    stats = []
    for label, path in (("without --db-check-on-checkout", args.without),
                        ("with    --db-check-on-checkout", args.with_)):
        rows = load(path)
        ok = [r for r in rows if r["status"] == 200]
        lat = [r["latency"] for r in ok]
        p50, p99 = pct(lat, 50), pct(lat, 99)
        stats.append((p50, p99))
        print(f"    {label}: {len(rows)} requests, {len(ok)} 200, "
              f"p50 {p50:.2f} ms, p99 {p99:.2f} ms; statuses {status_line(rows)}")
    (a50, a99), (b50, b99) = stats
    print(f"    ratio with/without: p50 x{b50 / a50:.2f}, p99 x{b99 / a99:.2f} "
          f"(+{b50 - a50:.2f} ms at p50)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--base", required=True)
    r.add_argument("--duration", type=float, required=True)
    r.add_argument("--threads", type=int, default=4)
    r.add_argument("--interval-ms", type=float, default=20.0)
    r.add_argument("--timeout", type=float, default=15.0)
    r.add_argument("--paths", default="/v1/referrals,/health/ready")
    r.add_argument("--out", required=True)
    r.add_argument("--until-file", help="stop early once this file exists (--duration stays the cap)")
    o = sub.add_parser("outage")
    o.add_argument("csv")
    for name in ("--stop", "--stopped", "--start", "--started"):
        o.add_argument(name, type=float, required=True)
    t = sub.add_parser("terminate")
    t.add_argument("csv")
    t.add_argument("--kill", type=float, required=True)
    t.add_argument("--killed", type=float, required=True)
    s = sub.add_parser("steady")
    s.add_argument("without")
    s.add_argument("with_", metavar="with")
    args = ap.parse_args()
    if args.cmd == "run" and not (0 < args.duration <= 600):
        sys.exit("duration must be in (0, 600] seconds")
    {"run": run, "outage": outage, "terminate": terminate, "steady": steady}[args.cmd](args)


if __name__ == "__main__":
    main()
