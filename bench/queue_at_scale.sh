#!/usr/bin/env bash
# The institution queue at scale on PostgreSQL: seeds 100,000 inquiries (about 150,000
# referrals) into a fresh database, captures the plans PostgreSQL uses for the server's own
# queue queries (auto_explain), and measures the latency of queue pages.
#
#   bash bench/queue_at_scale.sh            # N=100000 by default; N=20000 for a quick run
#
# Builds the release binary first. Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-100000}"
REQUESTS="${REQUESTS:-200}"
PG="postgres://postgres@127.0.0.1:5432"
DB="guichet_bench_$$"
URL="$PG/$DB"
LOG=/var/log/postgresql/postgresql-15-main.log
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
    psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "==> cargo build --release"
cargo build --release --quiet
BIN=target/release/guichet

echo "==> fresh database $DB, migrated, seeded with $N inquiries"
psql -q "$PG/postgres" -c "CREATE DATABASE $DB"
"$BIN" migrate --database-url "$URL" >/dev/null
start=$(date +%s)
psql -q -v n="$N" -f bench/seed.sql "$URL" >/dev/null
echo "    seeded in $(( $(date +%s) - start )) s: $(psql -Atq "$URL" -c 'SELECT count(*) FROM inquiries') inquiries, $(psql -Atq "$URL" -c 'SELECT count(*) FROM referrals') referrals"

# Every statement of this database's sessions is explained (with real timings) in the server log.
psql -q "$PG/postgres" -c "ALTER DATABASE $DB SET session_preload_libraries = 'auto_explain'" \
    -c "ALTER DATABASE $DB SET auto_explain.log_min_duration = 0" \
    -c "ALTER DATABASE $DB SET auto_explain.log_analyze = on"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SECRET=$(head -c 48 /dev/urandom | base64)
printf '%s\n' 'a long passphrase' | "$BIN" users create --database-url "$URL" --email t@curie.fr --role triager --institution curie --password-stdin >/dev/null
printf '%s\n' 'a long passphrase' | "$BIN" users create --database-url "$URL" --email ops@bench.example --role operator --password-stdin >/dev/null
GUICHET_JWT_SECRET="$SECRET" RUST_LOG=warn "$BIN" serve --database-url "$URL" --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done

token() {
    curl -fsS "http://127.0.0.1:$PORT/v1/auth/token" -H 'Content-Type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"a long passphrase\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
TRIAGER=$(token t@curie.fr)
OPERATOR=$(token ops@bench.example)

echo "==> plans of the queue queries (auto_explain, one call each)"
mark=$(wc -l < "$LOG")
for q in "" "?status=new,in_review&overdue=true" "?sort=newest"; do
    curl -fsS -o /dev/null "http://127.0.0.1:$PORT/v1/referrals$q" -H "Authorization: Bearer $TRIAGER"
done
curl -fsS -o /dev/null "http://127.0.0.1:$PORT/v1/referrals" -H "Authorization: Bearer $OPERATOR"
sleep 1
tail -n +"$((mark + 1))" "$LOG" > "$WORK/plans.log"
python3 - "$WORK/plans.log" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
# auto_explain entries: "duration: ... plan:\n Query Text: ...\n <plan lines>"
blocks = re.split(r"\n(?=\S.*LOG:\s+duration:)", text)
shown = 0
for b in blocks:
    if "Query Text:" not in b or '"referrals"' not in b or "LIMIT" not in b.upper() or "inner join" not in b.lower():
        continue
    shown += 1
    query = re.search(r"Query Text: (.*)", b).group(1)
    plan = [l.strip() for l in b.splitlines() if "->" in l or l.strip().startswith(("Limit", "Sort", "Nested", "Index", "Seq", "Hash"))]
    seq = [l for l in plan if "Seq Scan on referrals" in l]
    idx = [l for l in plan if re.search(r"Index (Only )?Scan( Backward)? using \w+ on referrals", l)]
    print(f"--- queue query {shown}: {query[:160]}...")
    for l in plan[:14]:
        print("   ", l)
    print("    verdict:", "SEQ SCAN on referrals" if seq else ("index: " + idx[0].split(" on ")[0].split("using ")[-1] if idx else "no scan of referrals found"))
if shown == 0:
    print("no queue plan found in the PostgreSQL log (is auto_explain available?)")
PY

echo "==> latency of queue pages ($REQUESTS sequential requests each)"
python3 - "$PORT" "$TRIAGER" "$OPERATOR" "$REQUESTS" <<'PY'
import http.client, json, statistics, sys, time
port, triager, operator, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
conn = http.client.HTTPConnection("127.0.0.1", int(port))
def get(path, token):
    conn.request("GET", path, headers={"Authorization": "Bearer " + token})
    r = conn.getresponse(); body = r.read()
    assert r.status == 200, (path, r.status, body[:200])
    return json.loads(body)
def measure(label, path, token):
    times = []
    t0 = time.perf_counter()
    for _ in range(n):
        s = time.perf_counter(); get(path, token); times.append((time.perf_counter() - s) * 1000)
    total = time.perf_counter() - t0
    q = statistics.quantiles(times, n=100)
    print(f"    {label:<40} p50 {q[49]:6.1f} ms  p90 {q[89]:6.1f} ms  p99 {q[98]:6.1f} ms  {n/total:6.0f} req/s")
measure("triager, default (due date)", "/v1/referrals", triager)
measure("triager, status+overdue", "/v1/referrals?status=new,in_review&overdue=true", triager)
measure("triager, newest first", "/v1/referrals?sort=newest", triager)
measure("operator, all institutions", "/v1/referrals", operator)
measure("triager, summary", "/v1/referrals/summary", triager)
cursor, path = None, "/v1/referrals?limit=20"
for _ in range(19):
    page = get(path if cursor is None else f"{path}&cursor={cursor}", triager)
    cursor = page["next_cursor"]
measure("triager, page 20 (cursor chain)", f"{path}&cursor={cursor}", triager)
PY
echo "==> done"
