#!/usr/bin/env python3
"""Webhook delivery under faults and load, against the real binary and a real receiver.

    python3 bench/webhooks.py check --database sqlite|postgres   # the promises (CI)
    python3 bench/webhooks.py bench [--database postgres] [--inquiries 300]

`check` (exit status 1 when a promise is broken):
  - kill -9: submits inquiries while a platform-wide endpoint receives every event slowly,
    kills the server with SIGKILL in the middle of the deliveries, starts it again, and waits
    until the receiver has every event of the feed. Every event must arrive, every signature
    must verify (the reference `standardwebhooks` library), and after dedupe on `webhook-id`
    each event counts once.
  - PostgreSQL only: two instances on one database deliver the next batch: every event once,
    and never two attempts of one event at the same time.
`bench`: for 1 and 2 instances (PostgreSQL; SQLite runs one), the submission rate, the
deliveries per second, and the latency from the change (the envelope's timestamp, taken in the
change's transaction) to the receiver, p50 and p99.

Needs the binary (`cargo build`), `standardwebhooks` importable by this Python (pip install
standardwebhooks), and for PostgreSQL `psql` and the server of GUICHET_BENCH_POSTGRES_URL
(default postgres://postgres@127.0.0.1:5432/postgres), where it creates and drops one database.
Loopback only; bounded in time.
"""

import argparse
import http.client
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime

try:
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError
except ImportError:
    raise SystemExit("bench/webhooks.py needs `pip install standardwebhooks`")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "a long bench passphrase"
INQUIRY = {
    "submitter": {"organization": "Helios Therapeutics", "organization_type": "biotech",
                  "name": "Dr Anna Keller", "email": "anna@helios.example", "country": "DE"},
    "inquiry_type": "clinical_trial",
    "title": "PSMA radioligand trial",
    "summary": "First-in-human trial of a PSMA radioligand.",
    "therapeutic_areas": ["prostate"],
    "modalities": ["radiopharmaceutical"],
    "stage": "phase_1",
    "preferred_institutions": ["curie", "gustave-roussy"],
    "non_confidential": True,
}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Receiver:
    """Records every delivery; verifies it; notes two attempts of one event at once."""

    def __init__(self, delay):
        self.delay = delay
        self.secret = None
        self.lock = threading.Lock()
        self.arrivals = []  # (webhook-id, arrival time, event timestamp)
        self.in_flight = {}
        self.concurrent = 0
        self.bad_signatures = 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                wid = self.headers.get("webhook-id", "")
                with receiver.lock:
                    if receiver.in_flight.get(wid, 0) > 0:
                        receiver.concurrent += 1
                    receiver.in_flight[wid] = receiver.in_flight.get(wid, 0) + 1
                try:
                    try:
                        Webhook(receiver.secret).verify(body, {
                            "webhook-id": wid,
                            "webhook-timestamp": self.headers.get("webhook-timestamp", ""),
                            "webhook-signature": self.headers.get("webhook-signature", ""),
                        })
                        ok = True
                    except WebhookVerificationError:
                        ok = False
                    if receiver.delay:
                        time.sleep(receiver.delay)
                    event = json.loads(body)
                    at = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")).timestamp()
                    with receiver.lock:
                        receiver.arrivals.append((wid, time.time(), at))
                        if not ok:
                            receiver.bad_signatures += 1
                    self.send_response(200)
                    self.send_header("content-length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                finally:
                    with receiver.lock:
                        receiver.in_flight[wid] -= 1

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def ids(self):
        with self.lock:
            return [a[0] for a in self.arrivals]


def call(port, method, path, body=None, token=None, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    c.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, (json.loads(data) if data else None)


class Instance:
    def __init__(self, binary, url, env):
        self.binary, self.url, self.env = binary, url, env
        self.port = free_port()
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--database-url", self.url, "--bind", f"127.0.0.1:{self.port}",
             "--webhooks-allow-loopback-http", "--webhook-timeout-seconds", "2",
             "--webhook-lease-seconds", "3", "--worker-poll-ms", "50",
             "--submissions-per-minute", "1000000", "--shutdown-drain-seconds", "0"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if call(self.port, "GET", "/health/ready", timeout=1)[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("the server did not become ready")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Database:
    def __init__(self, kind, work):
        self.kind = kind
        if kind == "sqlite":
            self.url = f"sqlite://{work}/g.db"
        else:
            admin = os.environ.get("GUICHET_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
            self.admin = admin
            self.name = "guichet_bench_" + uuid.uuid4().hex[:12]
            subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {self.name}"], check=True)
            self.url = admin.rsplit("/", 1)[0] + "/" + self.name

    def drop(self):
        if self.kind == "postgres":
            subprocess.run(["psql", self.admin, "-qc", f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)"],
                           check=False)


def setup(binary, db, receiver, env):
    subprocess.run([binary, "migrate", "--database-url", db.url], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([binary, "users", "create", "--database-url", db.url, "--email", "ops@example.org",
                    "--role", "operator", "--password-stdin"], input=(PASSWORD + "\n").encode(),
                   env=env, check=True, stdout=subprocess.DEVNULL)


def login_and_subscribe(port, receiver):
    status, body = call(port, "POST", "/v1/auth/token", {"email": "ops@example.org", "password": PASSWORD})
    assert status == 200, body
    token = body["access_token"]
    status, body = call(port, "POST", "/v1/webhook-endpoints", {"url": receiver.url}, token)
    assert status == 201, body
    receiver.secret = body["secret"]
    return token


def submit(ports, count, threads=4):
    done = [0]
    lock = threading.Lock()

    def run(i):
        for n in range(i, count, threads):
            try:
                status, _ = call(ports[n % len(ports)], "POST", "/v1/inquiries", INQUIRY)
            except (OSError, http.client.HTTPException):
                return  # the server was killed: this thread stops
            if status != 201:
                return
            with lock:
                done[0] += 1

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    start = time.time()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return done[0] / (time.time() - start)


def feed_ids(port, token):
    ids, after = [], None
    while True:
        q = "/v1/events?limit=100" + (f"&after={after}" if after else "")
        status, body = call(port, "GET", q, token=token)
        assert status == 200, body
        ids += [e["id"] for e in body["items"]]
        after = body["next_cursor"]
        if not body["items"]:
            return ids


def wait_all(port, token, receiver, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        expected = set(feed_ids(port, token))
        if expected and expected <= set(receiver.ids()):
            return expected, set()
        time.sleep(0.2)
    expected = set(feed_ids(port, token))
    return expected, expected - set(receiver.ids())


def check(args):
    failures = []
    with tempfile.TemporaryDirectory() as work:
        env = dict(os.environ, RUST_LOG="warn", GUICHET_JWT_SECRET=os.urandom(24).hex())
        db = Database(args.database, work)
        receiver = Receiver(delay=0.05)
        first = Instance(args.binary, db.url, env)
        second = None
        setup(args.binary, db, receiver, env)
        first.start()
        login_and_subscribe(first.port, receiver)
        loader = threading.Thread(target=submit, args=([first.port], args.inquiries, 2))
        loader.start()
        deadline = time.time() + 60
        # Kill while attempts are in flight at the receiver.
        while time.time() < deadline:
            with receiver.lock:
                busy = sum(receiver.in_flight.values())
            if len(receiver.ids()) >= 10 and busy > 0:
                break
            time.sleep(0.005)
        first.kill9()
        print(f"killed with {busy} attempts in flight at the receiver")
        try:
            loader.join()
            first.start()
            token = call(first.port, "POST", "/v1/auth/token",
                         {"email": "ops@example.org", "password": PASSWORD})[1]["access_token"]
            expected, missing = wait_all(first.port, token, receiver, 60)
            got = receiver.ids()
            print(f"{args.database}, kill -9 in the middle: {len(expected)} events in the feed, "
                  f"{len(got)} deliveries received, {len(set(got))} distinct webhook-ids, "
                  f"{len(got) - len(set(got))} redelivered after the kill, {len(missing)} missing, "
                  f"{receiver.bad_signatures} bad signatures")
            if missing:
                failures.append(f"{len(missing)} events never delivered after kill -9")
            if receiver.bad_signatures:
                failures.append("a delivery failed the reference signature check")
            if args.database == "postgres":
                second = Instance(args.binary, db.url, env)
                second.start()
                before = len(receiver.ids())
                known = set(receiver.ids())
                receiver.concurrent = 0
                submit([first.port, second.port], args.inquiries, 4)
                expected, missing = wait_all(first.port, token, receiver, 60)
                new = receiver.ids()[before:]
                fresh = [i for i in new if i not in known]
                print(f"postgres, two instances: {len(expected)} events in the feed, {len(new)} deliveries "
                      f"received in this phase, {len(fresh) - len(set(fresh))} duplicates, "
                      f"{receiver.concurrent} concurrent attempts of one event, {len(missing)} missing")
                if missing:
                    failures.append(f"{len(missing)} events never delivered by two instances")
                if len(fresh) != len(set(fresh)):
                    failures.append("two instances delivered an event twice")
                if receiver.concurrent:
                    failures.append("two attempts of one event ran at the same time")
        finally:
            for i in (first, second):
                if i:
                    i.stop()
            db.drop()
    if failures:
        print("FAILED: " + "; ".join(failures))
        sys.exit(1)
    print("webhooks check: passed")


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def bench(args):
    counts = (1, 2) if args.database == "postgres" else (1,)
    rows = []
    for n in counts:
        with tempfile.TemporaryDirectory() as work:
            env = dict(os.environ, RUST_LOG="warn", GUICHET_JWT_SECRET=os.urandom(24).hex())
            db = Database(args.database, work)
            receiver = Receiver(delay=0)
            instances = [Instance(args.binary, db.url, env) for _ in range(n)]
            try:
                setup(args.binary, db, receiver, env)
                for i in instances:
                    i.start()
                token = login_and_subscribe(instances[0].port, receiver)
                rate = submit([i.port for i in instances], args.inquiries, 4)
                expected, missing = wait_all(instances[0].port, token, receiver, 120)
                with receiver.lock:
                    arrivals = list(receiver.arrivals)
                latencies = [(t - at) * 1000 for _, t, at in arrivals]
                span = max(t for _, t, _ in arrivals) - min(t for _, t, _ in arrivals)
                rows.append((n, rate, len(arrivals) / span if span else 0.0,
                             percentile(latencies, 50), percentile(latencies, 99), len(missing)))
            finally:
                for i in instances:
                    i.stop()
                db.drop()
    print(f"webhooks on {args.database}, {args.inquiries} inquiries (4 submitting threads), "
          f"worker poll 50 ms:")
    print("instances | submissions/s | deliveries/s | commit→receiver p50 | p99 | missing")
    for n, rate, dps, p50, p99, missing in rows:
        print(f"{n:9} | {rate:13.1f} | {dps:12.1f} | {p50:16.0f} ms | {p99:4.0f} ms | {missing}")
    if len(rows) == 2:
        print(f"ratio 2 instances / 1: deliveries/s x{rows[1][2] / rows[0][2]:.2f}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["check", "bench"])
    p.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--binary", default=os.path.join(REPO, "target", "debug", "guichet"))
    p.add_argument("--inquiries", type=int, default=40)
    args = p.parse_args()
    (check if args.mode == "check" else bench)(args)


if __name__ == "__main__":
    main()
