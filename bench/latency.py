#!/usr/bin/env python3
"""Sequential HTTP latency against the local server (one keep-alive connection, 127.0.0.1).

    latency.py cursor PORT TOKEN PATH PAGE
        follows next_cursor from PATH and prints the cursor of page PAGE (1 = no cursor)
    latency.py get PORT N LABEL TOKEN PATH [LABEL TOKEN PATH ...]
        N sequential GETs of each PATH (after 10 unmeasured ones); p50/p90/p99 and req/s
    latency.py post PORT N LABEL PATH BODYFILE
        N sequential POSTs of BODYFILE (JSON)

Exits non-zero when a response is not a success: a figure of failed requests is no figure.
Appends each figure as a JSON line to $LATENCY_OUT when it is set.
"""
import http.client
import json
import math
import os
import sys
import time

WARMUP = 10


def connect(port):
    return http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)


def request(conn, method, path, token=None, body=None):
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    if body is not None:
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    if r.status // 100 != 2:
        sys.exit(f"{method} {path}: HTTP {r.status}: {data[:300]!r}")
    return data


def pct(sorted_ms, p):
    return sorted_ms[max(0, math.ceil(p / 100 * len(sorted_ms)) - 1)]


def report(label, times, total):
    s = sorted(times)
    print(f"    {label:<52} p50 {pct(s, 50):7.2f} ms   p90 {pct(s, 90):7.2f} ms   "
          f"p99 {pct(s, 99):7.2f} ms   {len(s) / total:7.1f} req/s   (n={len(s)})", flush=True)
    figures = {"label": label, "p50": pct(s, 50), "p90": pct(s, 90), "p99": pct(s, 99), "rps": len(s) / total}
    if os.environ.get("LATENCY_OUT"):
        with open(os.environ["LATENCY_OUT"], "a") as f:
            f.write(json.dumps(figures) + "\n")
    return figures


def measure(conn, n, method, path, token=None, body=None):
    for _ in range(WARMUP):
        request(conn, method, path, token, body)
    times = []
    t0 = time.perf_counter()
    for _ in range(n):
        s = time.perf_counter()
        request(conn, method, path, token, body)
        times.append((time.perf_counter() - s) * 1000)
    return times, time.perf_counter() - t0


def main():
    mode, port = sys.argv[1], sys.argv[2]
    conn = connect(port)
    if mode == "cursor":
        token, path, page = sys.argv[3], sys.argv[4], int(sys.argv[5])
        cursor, seen = None, set()
        sep = "&" if "?" in path else "?"
        for _ in range(page - 1):
            body = json.loads(request(conn, "GET", path if cursor is None else f"{path}{sep}cursor={cursor}", token))
            ids = [item["id"] for item in body["items"]]
            if seen.intersection(ids):
                sys.exit("the cursor chain repeated an item")
            seen.update(ids)
            cursor = body["next_cursor"]
            if cursor is None:
                sys.exit(f"the queue ends before page {page}")
        print(cursor or "")
    elif mode == "get":
        n, rest = int(sys.argv[3]), sys.argv[4:]
        for i in range(0, len(rest), 3):
            label, token, path = rest[i:i + 3]
            times, total = measure(conn, n, "GET", path, token)
            report(label, times, total)
    elif mode == "post":
        n, label, path, bodyfile = int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
        body = open(bodyfile, "rb").read()
        times, total = measure(conn, n, "POST", path, None, body)
        report(label, times, total)
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
