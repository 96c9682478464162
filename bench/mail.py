#!/usr/bin/env python3
"""E-mail through the outbox under a fault and under load, against the real binary and a real
SMTP server (tests/support/smtp_sink.py, aiosmtpd on loopback).

    python3 bench/mail.py check --database sqlite|postgres [--inquiries 60]   # the promise (CI)
    python3 bench/mail.py bench [--database sqlite|postgres|both] [--inquiries 200]

Every inquiry is submitted with its own submitter address (bench+<n>@example.org) and no staff
account or contact exists, so each one writes exactly one e-mail: the receipt to the submitter.

`check` (exit status 1 when the promise is broken; no timing assertion):
  1. half of the inquiries are submitted; the sink must hold their receipts and the database
     must record them as sent;
  2. the sink is told to stall DATA (DIR/hold), the other half is submitted, the worker
     connects and waits for the sink's answer; the server is killed with SIGKILL while those
     messages are on the wire or still waiting, none of them accepted;
  3. the hold is lifted and the server started again on the same database. Messages that the
     dead server had claimed are due again when their lease expires: the lease is
     2 x --smtp-timeout-seconds + 30 s, at least 32 s, and no flag shortens it, so this step
     waits about half a minute.
  Every inquiry's receipt must arrive, and no Message-ID may arrive twice: a message the sink
  had accepted (and the server recorded) before the kill is never sent again. Messages the sink
  accepts in the instant between its 250 and the server's UPDATE would be sent twice (SMTP is
  at-least-once, RFC 5321 section 6.1); the hold keeps the kill out of that window, so the
  check is deterministic.
`bench`: e-mails per second through the outbox into the sink (inquiries submitted by 4
threads as fast as they go, from the first submission until the sink has every receipt) and the
latency from the submission's answer (the change is committed before it) to the sink writing
the message, p50 and p99, on SQLite and PostgreSQL, worker poll 50 ms and 500 ms (the default);
the same with the `.eml` folder transport as a baseline.

Needs the binary (`cargo build`), aiosmtpd importable by this Python (pip install aiosmtpd),
and for PostgreSQL `psql` and the server of GUICHET_BENCH_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432/postgres), where it creates and drops one database per run.
Loopback only; bounded in time.
"""

import argparse
import email.parser
import glob
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid

try:
    import aiosmtpd  # noqa: F401  (the sink runs with this same Python)
except ImportError:
    raise SystemExit("bench/mail.py needs `pip install aiosmtpd` for this Python")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SINK = os.path.join(REPO, "tests", "support", "smtp_sink.py")
MAIL_FROM = "Guichet <guichet@bench.example>"
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


def address(n):
    return f"bench+{n}@example.org"


def inquiry(n):
    body = json.loads(json.dumps(INQUIRY))
    body["submitter"]["email"] = address(n)
    return body


class Mailbox:
    """The messages in a folder: the sink's (`X-Sink-Rcpt` first line) or the server's `.eml`
    folder (recipient from `To:`). Each file is parsed once."""

    def __init__(self, directory):
        self.directory = directory
        self.seen = {}  # file name -> (recipient, Message-ID, mtime)
        self.parser = email.parser.BytesHeaderParser()

    def read(self):
        for path in sorted(glob.glob(os.path.join(self.directory, "*.eml"))):
            name = os.path.basename(path)
            if name in self.seen:
                continue
            with open(path, "rb") as f:
                headers = self.parser.parse(f)
            rcpt = headers.get("X-Sink-Rcpt") or headers.get("To") or ""
            rcpt = rcpt.strip().strip("<>").lower()
            self.seen[name] = (rcpt, (headers.get("Message-ID") or "").strip(), os.stat(path).st_mtime)
        return list(self.seen.values())

    def recipients(self):
        return {r for r, _, _ in self.read()}


class Sink:
    """tests/support/smtp_sink.py in a child process; it exits when its stdin closes."""

    def __init__(self, directory):
        self.directory = directory
        self.hold_path = os.path.join(directory, "hold")
        self.proc = subprocess.Popen([sys.executable, SINK, "--dir", directory],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("PORT "):
            raise SystemExit(f"the SMTP sink did not start (said {line!r})")
        self.port = int(line.split()[1])
        self.box = Mailbox(directory)

    def hold(self, on):
        if on:
            open(self.hold_path, "w").close()
        elif os.path.exists(self.hold_path):
            os.remove(self.hold_path)

    def open_connections(self):
        """Connections the sink has not finished with (ESTABLISHED or CLOSE_WAIT on its port),
        from /proc/net/tcp; None where that file does not exist."""
        found, n = False, 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as f:
                    rows = f.read().splitlines()[1:]
            except OSError:
                continue
            found = True
            for row in rows:
                fields = row.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port == self.port and fields[3] in ("01", "08"):
                    n += 1
        return n if found else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def call(port, method, path, body=None, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request(method, path, body=None if body is None else json.dumps(body),
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


class Instance:
    def __init__(self, binary, url, env, work, smtp_port=None, mail_dir=None, timeout=None,
                 poll_ms=None):
        self.binary, self.url, self.env = binary, url, env
        self.smtp_port, self.mail_dir, self.timeout, self.poll_ms = smtp_port, mail_dir, timeout, poll_ms
        self.log_path = os.path.join(work, "server.log")
        self.port = None
        self.proc = None

    def start(self):
        self.port = free_port()
        cmd = [self.binary, "serve", "--database-url", self.url, "--bind", f"127.0.0.1:{self.port}",
               "--mail-from", MAIL_FROM, "--submissions-per-minute", "1000000",
               "--shutdown-drain-seconds", "0"]
        if self.smtp_port:
            cmd += ["--smtp-url", f"smtp://127.0.0.1:{self.smtp_port}?tls=none"]
        else:
            cmd += ["--mail-dir", self.mail_dir]
        if self.timeout:
            cmd += ["--smtp-timeout-seconds", str(self.timeout)]
        if self.poll_ms:
            cmd += ["--worker-poll-ms", str(self.poll_ms)]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, env=self.env, stdout=log, stderr=log)
        log.close()
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if call(self.port, "GET", "/health/ready", timeout=1)[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("the server did not become ready")

    def log_tail(self, lines=20):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

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
            self.path = os.path.join(work, "g.db")
            self.url = f"sqlite://{self.path}"
        else:
            admin = os.environ.get("GUICHET_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
            self.admin = admin
            self.name = "guichet_bench_" + uuid.uuid4().hex[:12]
            subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {self.name}"], check=True)
            self.url = admin.rsplit("/", 1)[0] + "/" + self.name

    def migrate(self, binary, env):
        subprocess.run([binary, "migrate", "--database-url", self.url], env=env, check=True,
                       stdout=subprocess.DEVNULL)

    def row(self, sql):
        """One row of integers."""
        if self.kind == "sqlite":
            c = sqlite3.connect(self.path, timeout=10)
            try:
                return tuple(int(v or 0) for v in c.execute(sql).fetchone())
            finally:
                c.close()
        out = subprocess.run(["psql", self.url, "-XtAqc", sql], check=True, capture_output=True,
                             text=True).stdout.strip()
        return tuple(int(v or 0) for v in out.split("|"))

    def mail_state(self):
        """(sent, pending on the wire = claimed, pending to retry, pending not yet tried, failed)"""
        return self.row(
            "SELECT "
            "SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN status = 'pending' AND lease_expires_at IS NOT NULL THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN status = 'pending' AND lease_expires_at IS NULL AND attempts > 0 THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN status = 'pending' AND lease_expires_at IS NULL AND attempts = 0 THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) "
            "FROM mail_messages")

    def drop(self):
        if self.kind == "postgres":
            subprocess.run(["psql", self.admin, "-qc", f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)"],
                           check=False)


def submit(port, numbers, threads=4):
    """Submits one inquiry per number; returns {number: time the 201 was read} (a failure is
    kept as a string)."""
    answered, lock = {}, threading.Lock()
    numbers = list(numbers)

    def run(i):
        for n in numbers[i::threads]:
            try:
                status, data = call(port, "POST", "/v1/inquiries", inquiry(n))
                result = time.time() if status == 201 else f"HTTP {status}: {data[:200]!r}"
            except (OSError, http.client.HTTPException) as e:
                result = f"{type(e).__name__}: {e}"
            with lock:
                answered[n] = result

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return answered


def wait_until(what, predicate, seconds, interval=0.1):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(interval)
    if not predicate():
        raise TimeoutError(f"timed out after {seconds:.0f} s waiting until {what}")


def check(args):
    n = args.inquiries
    if n < 2:
        raise SystemExit("--inquiries must be at least 2")
    first_half, second_half = range(0, n // 2), range(n // 2, n)
    failures = []
    with tempfile.TemporaryDirectory() as work:
        env = dict(os.environ, RUST_LOG="warn", GUICHET_JWT_SECRET=os.urandom(24).hex())
        db = Database(args.database, work)
        sink = Sink(os.path.join(work, "sink"))
        # --smtp-timeout-seconds 1 gives the shortest lease the server allows: 2 x 1 + 30 s.
        server = Instance(args.binary, db.url, env, work, smtp_port=sink.port, timeout=1, poll_ms=50)
        try:
            db.migrate(args.binary, env)
            server.start()

            # Phase 1: half the inquiries, every receipt accepted by the sink and recorded sent.
            answered = submit(server.port, first_half)
            bad = {k: v for k, v in answered.items() if isinstance(v, str)}
            if bad:
                raise SystemExit(f"submissions failed: {sorted(bad.items())[:3]}")
            want = {address(i) for i in first_half}
            wait_until(f"the sink holds the {len(want)} receipts of the first half",
                       lambda: want <= sink.box.recipients(), 60)
            wait_until(f"the database records {len(want)} messages sent",
                       lambda: db.mail_state()[0] >= len(want), 60)

            # Phase 2: the sink stalls DATA; the other half is submitted; the worker claims
            # messages and waits on the wire; kill -9 with none of them accepted.
            sink.hold(True)
            answered = submit(server.port, second_half)
            bad = {k: v for k, v in answered.items() if isinstance(v, str)}
            if bad:
                raise SystemExit(f"submissions failed: {sorted(bad.items())[:3]}")
            wait_until("the worker has claimed messages of the second half",
                       lambda: db.mail_state()[1] > 0, 30, interval=0.05)
            time.sleep(1.5)  # the claimed messages reach DATA and wait for the sink's answer
            sent, wire, retry, waiting, failed = db.mail_state()
            accepted_before = len(sink.box.read())
            server.kill9()
            in_flight = wire + retry + waiting
            print(f"killed with {in_flight} receipts pending: {wire} claimed (on the wire to the "
                  f"stalled sink), {retry} to retry, {waiting} not yet claimed; {sent} sent, "
                  f"{failed} failed; the sink had accepted {accepted_before}")
            if accepted_before != len(first_half):
                failures.append(f"the sink accepted {accepted_before - len(first_half)} messages "
                                "while it stalled DATA (the kill was not deterministic)")
            # The sink must have seen the dead connections close (its stalled handlers are
            # cancelled then) before the hold is lifted, or it would accept what the server
            # never saw accepted.
            if sink.open_connections() is None:
                time.sleep(2)
            else:
                wait_until("the sink has closed the dead server's connections",
                           lambda: sink.open_connections() == 0, 20, interval=0.05)
            sink.hold(False)

            # Phase 3: the same database, a new process. Claimed messages wait for their lease.
            restarted = time.time()
            server.start()
            every = {address(i) for i in range(n)}
            timed_out = None
            try:
                wait_until(f"the sink holds all {n} receipts",
                           lambda: every <= sink.box.recipients(), 32 + 60, interval=0.2)
                wait_until("the database has no pending message",
                           lambda: sum(db.mail_state()[1:4]) == 0, 30, interval=0.2)
            except TimeoutError as e:
                timed_out = str(e)
            took = time.time() - restarted
            messages = sink.box.read()
            ids = [m for _, m, _ in messages]
            duplicates = len(ids) - len(set(ids))
            receipts = sink.box.recipients() & every
            lost = len(every - receipts)
            sent, wire, retry, waiting, failed = db.mail_state()
            others = len({r for r, _, _ in messages} - every)
            print(f"after the restart ({took:.1f} s): {len(messages)} messages in the sink, "
                  f"{len(set(ids))} distinct Message-IDs; database: {sent} sent, "
                  f"{wire + retry + waiting} pending, {failed} failed")
            print(f"mail check ({args.database}): {n} inquiries, {len(receipts)} receipts, "
                  f"{duplicates} duplicates, {lost} lost, kill -9 with {in_flight} in flight")
            if timed_out:
                failures.append(timed_out)
            if lost:
                failures.append(f"{lost} receipts never arrived after kill -9")
            if duplicates:
                failures.append(f"{duplicates} messages arrived twice (same Message-ID)")
            if any(not m for m in ids):
                failures.append("a message without a Message-ID")
            if others:
                failures.append(f"{others} messages to addresses no inquiry gave")
            if failed:
                failures.append(f"{failed} messages marked failed")
            if not server.alive():
                failures.append(f"the restarted server died:\n{server.log_tail()}")
        except TimeoutError as e:
            failures.append(str(e))
        finally:
            server.stop()
            sink.stop()
            db.drop()
            if failures:
                print(f"server log (last lines):\n{server.log_tail()}")
    if failures:
        print("FAILED: " + "; ".join(failures))
        sys.exit(1)
    print("mail check: passed")


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def bench_one(args, kind, transport, poll_ms, drain=False):
    m = args.inquiries
    with tempfile.TemporaryDirectory() as work:
        env = dict(os.environ, RUST_LOG="warn", GUICHET_JWT_SECRET=os.urandom(24).hex())
        db = Database(kind, work)
        sink = None
        try:
            if transport == "smtp":
                sink = Sink(os.path.join(work, "sink"))
                box = sink.box
                server = Instance(args.binary, db.url, env, work, smtp_port=sink.port, poll_ms=poll_ms)
            else:
                box = Mailbox(os.path.join(work, "eml"))
                server = Instance(args.binary, db.url, env, work, mail_dir=box.directory, poll_ms=poll_ms)
            db.migrate(args.binary, env)
            server.start()
            every = {address(i) for i in range(m)}
            if drain:
                sink.hold(True)
            start = time.time()
            answered = submit(server.port, range(m), threads=4)
            submitted = time.time()
            bad = {k: v for k, v in answered.items() if isinstance(v, str)}
            if bad:
                raise SystemExit(f"submissions failed: {sorted(bad.items())[:3]}")
            if drain:
                # Every receipt is in the outbox, a few on the wire to the stalled sink: from
                # the moment the sink answers again, the rate is the relay's own.
                wait_until("the worker has claimed messages", lambda: db.mail_state()[1] > 0, 30)
                start = time.time()
                sink.hold(False)
            wait_until(f"all {m} receipts arrived", lambda: every <= box.recipients(), 180, interval=0.05)
            messages = box.read()
            at = {r: t for r, _, t in messages}
            last = max(at[r] for r in every)
            latencies = [(at[address(i)] - answered[i]) * 1000 for i in range(m)]
            return {"database": kind, "transport": transport, "poll": poll_ms,
                    "submissions": m / (submitted - start), "mails": m / (last - start),
                    "p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
                    "extra": len(messages) - m}
        finally:
            server.stop()
            if sink:
                sink.stop()
            db.drop()


def bench(args):
    kinds = ["sqlite", "postgres"] if args.database in (None, "both") else [args.database]
    rows, drains = [], []
    for kind in kinds:
        for poll in (50, 500):
            for transport in ("smtp", "folder"):
                rows.append(bench_one(args, kind, transport, poll))
                print(f"  {kind}, {transport}, poll {poll} ms: {rows[-1]['mails']:.1f} e-mails/s", flush=True)
            drains.append(bench_one(args, kind, "smtp", poll, drain=True))
            print(f"  {kind}, smtp backlog, poll {poll} ms: {drains[-1]['mails']:.1f} e-mails/s", flush=True)
    print(f"\nmail through the outbox, {args.inquiries} inquiries (one receipt each, 4 submitting "
          "threads), worker concurrency 4; e-mails/s from the first submission to the last receipt;")
    print("latency from the submission's 201 (after the commit) to the message written by the sink "
          "(SMTP) or in the folder (.eml); backlog: the same receipts submitted while the sink "
          "stalled DATA, timed from the moment it answers again")
    print("database | poll ms | submissions/s | SMTP e-mails/s | p50     | p99     | backlog e-mails/s "
          "| .eml e-mails/s | p50     | p99     | SMTP/.eml")
    for kind in kinds:
        for poll in (50, 500):
            smtp, eml = (next(r for r in rows if (r["database"], r["transport"], r["poll"]) == (kind, t, poll))
                         for t in ("smtp", "folder"))
            drain = next(r for r in drains if (r["database"], r["poll"]) == (kind, poll))
            print(f"{kind:8} | {poll:7} | {smtp['submissions']:13.1f} | {smtp['mails']:14.1f} | "
                  f"{smtp['p50']:4.0f} ms | {smtp['p99']:4.0f} ms | {drain['mails']:17.1f} | "
                  f"{eml['mails']:14.1f} | {eml['p50']:4.0f} ms | {eml['p99']:4.0f} ms | "
                  f"{smtp['mails'] / eml['mails']:9.2f}")
    extra = sum(r["extra"] for r in rows + drains)
    print(f"messages beyond one per inquiry: {extra}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["check", "bench"])
    p.add_argument("--database", choices=["sqlite", "postgres", "both"], default=None,
                   help="check: sqlite (default) or postgres; bench: both (default)")
    p.add_argument("--binary", default=os.path.join(REPO, "target", "debug", "guichet"))
    p.add_argument("--inquiries", type=int, default=None, help="check: 60; bench: 200")
    args = p.parse_args()
    if args.mode == "check":
        if args.database == "both":
            p.error("check runs one database: --database sqlite or postgres")
        args.database = args.database or "sqlite"
        args.inquiries = args.inquiries or 60
        check(args)
    else:
        args.inquiries = args.inquiries or 200
        bench(args)


if __name__ == "__main__":
    main()
