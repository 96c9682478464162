#!/usr/bin/env python3
"""What SIGTERM does to requests in flight: resets against answers, with and without the drain.

    python3 bench/sigterm.py [--binary target/debug/guichet] [--threads 8] [--rounds 3]

For each drain setting (0 s, the behaviour before the drain existed, and the default 3 s) and
round: starts `guichet serve` on a fresh SQLite database on a free loopback port, runs a steady
load of GET /health/live (half the threads on keep-alive connections, reconnecting when told to
close; half on a new connection per request), sends SIGTERM after 3 s, and keeps the load on
until the process has exited. Every request ends one of three ways:
  - answered: an HTTP status came back;
  - refused: the connection could not be opened (the listener is closed): a client or a load
    balancer retries elsewhere, nothing was lost;
  - reset: the connection was accepted (or reused) and then dropped without an answer: the
    request may or may not have been processed. This is the defect the drain is for.
Prints the counts per setting and the ratio of resets. Standard library only; loopback only;
bounded: each round lasts at most 40 s.
"""

import argparse
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_ready(port, deadline):
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            c.request("GET", "/health/live")
            if c.getresponse().status == 200:
                return True
        except OSError:
            time.sleep(0.1)
    return False


def worker(port, keep_alive, stop, counts, lock):
    conn = None
    while not stop.is_set():
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                try:
                    conn.connect()
                except OSError:
                    with lock:
                        counts["refused"] += 1
                    conn = None
                    time.sleep(0.005)
                    continue
            conn.request("GET", "/health/live")
            res = conn.getresponse()
            res.read()
            with lock:
                counts["answered"] += 1
            closing = (res.getheader("connection") or "").lower() == "close"
            if not keep_alive or closing:
                conn.close()
                conn = None
        except (ConnectionError, http.client.HTTPException, OSError):
            with lock:
                counts["reset"] += 1
            if conn is not None:
                conn.close()
            conn = None
        time.sleep(0.002)


def round_once(binary, drain, threads):
    port = free_port()
    with tempfile.TemporaryDirectory() as work:
        env = dict(os.environ)
        env["GUICHET_JWT_SECRET"] = os.urandom(24).hex()
        env["RUST_LOG"] = "warn"
        proc = subprocess.Popen(
            [binary, "serve", "--database-url", f"sqlite://{work}/g.db", "--bind", f"127.0.0.1:{port}",
             "--shutdown-drain-seconds", str(drain)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            if not wait_ready(port, time.time() + 30):
                raise SystemExit("the server did not become ready")
            counts = {"answered": 0, "refused": 0, "reset": 0}
            lock = threading.Lock()
            stop = threading.Event()
            pool = [threading.Thread(target=worker, args=(port, i % 2 == 0, stop, counts, lock))
                    for i in range(threads)]
            for t in pool:
                t.start()
            time.sleep(3)
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=35)
            except subprocess.TimeoutExpired:
                proc.kill()
            time.sleep(0.5)
            stop.set()
            for t in pool:
                t.join(timeout=10)
            return counts
        finally:
            if proc.poll() is None:
                proc.kill()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", default="target/debug/guichet")
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    print(f"sigterm: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {args.threads} threads, "
          f"{args.rounds} rounds per setting; binary {args.binary}")
    totals = {}
    for drain in (0, 3):
        total = {"answered": 0, "refused": 0, "reset": 0}
        for r in range(args.rounds):
            c = round_once(args.binary, drain, args.threads)
            print(f"  drain {drain} s, round {r + 1}: answered {c['answered']}, refused {c['refused']}, reset {c['reset']}")
            for k in total:
                total[k] += c[k]
        totals[drain] = total
        share = total["reset"] / max(1, total["answered"] + total["reset"])
        print(f"drain {drain} s: answered {total['answered']}, refused {total['refused']}, "
              f"reset {total['reset']} ({share:.4%} of the requests that reached the server)")
    before, after = totals[0]["reset"], totals[3]["reset"]
    print(f"resets with the drain / without: {after} / {before}"
          + (f" = x{after / before:.2f}" if before else ""))


if __name__ == "__main__":
    sys.exit(main())
