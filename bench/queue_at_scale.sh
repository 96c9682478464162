#!/usr/bin/env bash
# The institution queue at scale on PostgreSQL (issue 4, "Fast at scale").
#
#   bash bench/queue_at_scale.sh        # N=100000 inquiries; REQUESTS=200 per call; BUILD=0 skips the build
#
# 1. builds the release binary; creates a fresh database, migrates it with the binary, seeds N
#    inquiries and ~1.5 N referrals (bench/seed.sql, set-based), ANALYZE;
# 2. logs every statement of that database (ALTER DATABASE ... SET log_min_duration_statement
#    = 0), runs the server, calls each queue page once (triager of curie: default order,
#    status+overdue, newest first, page 20 of the cursor chain, and extras; operator: all
#    institutions; plus one submission), reads the server's statements back from PostgreSQL's
#    log and runs EXPLAIN (ANALYZE, BUFFERS) on each SELECT of `referrals` with its parameters
#    (bench/pg_statements.py): verdict index or Seq Scan;
# 3. restarts the server without statement logging and measures REQUESTS sequential requests
#    per call (bench/latency.py): p50, p90, p99, requests/s.
# The database is dropped at the end. Exits non-zero only when something fails (build, seed,
# server, an HTTP error, the capture); a Seq Scan is reported, not a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
trap bench_cleanup EXIT

N="${N:-100000}"
REQUESTS="${REQUESTS:-200}"
PASSWORD='a long passphrase'
LOG="$(postgres_log_file)" || die "cannot find PostgreSQL's log file (pg_current_logfile() or /var/log/postgresql)"

echo "# Queue at scale: $N inquiries"
machine_line
build_release

say "fresh database, migrated by the binary, seeded with $N inquiries"
fresh_database "guichet_queue_bench_$$"
start=$(date +%s%N)
psql -Xq -v n="$N" -f bench/seed.sql "$DB_URL" >/dev/null
printf '    seeded and analyzed in %s ms: ' "$(( ($(date +%s%N) - start) / 1000000 ))"
psql -XAtq -F' ' "$DB_URL" -c "SELECT (SELECT count(*) FROM inquiries) || ' inquiries, ' || (SELECT count(*) FROM referrals) || ' referrals (' || (SELECT string_agg(institution_id || ' ' || c, ', ' ORDER BY institution_id) FROM (SELECT institution_id, count(*) c FROM referrals GROUP BY 1) t) || '), ' || (SELECT count(*) FROM contacts) || ' contacts; curie: ' || (SELECT count(*) FROM referrals WHERE institution_id = 'curie' AND first_responded_at IS NULL AND sla_paused_at IS NULL AND first_response_due_at < now() AT TIME ZONE 'UTC') || ' overdue'"

printf '%s\n' "$PASSWORD" | "$BIN" users create --database-url "$DB_URL" --email t@curie.fr --role triager --institution curie --password-stdin >/dev/null
printf '%s\n' "$PASSWORD" | "$BIN" users create --database-url "$DB_URL" --email ops@bench.example --role operator --password-stdin >/dev/null

say "statement logging for $BENCH_DB only; server started; statements read back from $LOG"
psql -Xq "$PG_ADMIN/postgres" -c "ALTER DATABASE \"$BENCH_DB\" SET log_min_duration_statement = 0"
start_server --submissions-per-minute 1000000
TRIAGER="$(access_token t@curie.fr "$PASSWORD")"
OPERATOR="$(access_token ops@bench.example "$PASSWORD")"

PAGE20="/v1/referrals?cursor=$(python3 bench/latency.py cursor "$PORT" "$TRIAGER" /v1/referrals 20)"
DEEP_ITEMS=$(( N / 5 ))
DEEP="/v1/referrals?cursor=$(python3 bench/latency.py cursor "$PORT" "$TRIAGER" '/v1/referrals?limit=100' $(( DEEP_ITEMS / 100 + 1 )))"

# label | who | path (the first five are the brief's; the others are extras)
CALLS=(
    "triager curie: default order (due date)|triager|/v1/referrals"
    "triager curie: status=new,in_review&overdue=true|triager|/v1/referrals?status=new,in_review&overdue=true"
    "triager curie: sort=newest|triager|/v1/referrals?sort=newest"
    "operator: all institutions (default order)|operator|/v1/referrals"
    "triager curie: page 20 via next_cursor|triager|$PAGE20"
    "triager curie: after $DEEP_ITEMS items via next_cursor|triager|$DEEP"
    "triager curie: assigned=me|triager|/v1/referrals?assigned=me"
    "triager curie: q=Kestrel Pharma 42 (free text)|triager|/v1/referrals?q=Kestrel%20Pharma%2042"
    "triager curie: /v1/referrals/summary|triager|/v1/referrals/summary"
)
token_of() { if [ "$1" = operator ]; then echo "$OPERATOR"; else echo "$TRIAGER"; fi; }

SEGMENTS=()
i=0
for call in "${CALLS[@]}"; do
    IFS='|' read -r label who path <<<"$call"
    i=$((i + 1))
    offset=$(stat -c %s "$LOG")
    curl -fsS -o /dev/null "http://127.0.0.1:$PORT$path" -H "Authorization: Bearer $(token_of "$who")" || die "GET $path failed"
    sleep 0.2
    tail -c +"$((offset + 1))" "$LOG" >"$WORK/call_$i.log"
    SEGMENTS+=("$WORK/call_$i.log=$label")
done
offset=$(stat -c %s "$LOG")
curl -fsS -o /dev/null "http://127.0.0.1:$PORT/v1/inquiries" -H 'Content-Type: application/json' -d @bench/submit.json || die "POST /v1/inquiries failed"
sleep 0.2
tail -c +"$((offset + 1))" "$LOG" >"$WORK/submit.log"
SEGMENTS+=("$WORK/submit.log=anonymous: POST /v1/inquiries (routing reads)")
stop_server
psql -Xq "$PG_ADMIN/postgres" -c "ALTER DATABASE \"$BENCH_DB\" RESET log_min_duration_statement"

say "plans of the server's own statements (EXPLAIN (ANALYZE, BUFFERS), parameters substituted)"
python3 bench/pg_statements.py "$DB_URL" "$BENCH_DB" "$WORK/plans.tsv" "${SEGMENTS[@]}"

say "latency: $REQUESTS sequential requests per call (after 10 unmeasured), one keep-alive connection, statement logging off"
start_server --submissions-per-minute 1000000
TRIAGER="$(access_token t@curie.fr "$PASSWORD")"
OPERATOR="$(access_token ops@bench.example "$PASSWORD")"
ARGS=()
for call in "${CALLS[@]}"; do
    IFS='|' read -r label who path <<<"$call"
    ARGS+=("$label" "$(token_of "$who")" "$path")
done
export LATENCY_OUT="$WORK/latency.jsonl"
python3 bench/latency.py get "$PORT" "$REQUESTS" "${ARGS[@]}"
python3 bench/latency.py post "$PORT" "$REQUESTS" "anonymous: POST /v1/inquiries (routing reads)" /v1/inquiries bench/submit.json

say "summary ($N inquiries, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
python3 - "$WORK/plans.tsv" "$WORK/latency.jsonl" <<'PY'
import json, sys
plans = {}
for line in open(sys.argv[1]):
    if line.strip():
        label, n, head, read, ms, generic, status = line.rstrip("\n").split("\t")
        plans.setdefault(label, []).append((head, read, ms, generic, status))
lat = {}
for line in open(sys.argv[2]):
    d = json.loads(line); lat[d["label"]] = d
findings = []
print(f"    {'call':<52} {'p50':>8} {'p90':>8} {'p99':>8} {'req/s':>7}  referrals read by (custom plan / generic plan), rows read")
for label, d in lat.items():
    for k, (head, read, ms, generic, status) in enumerate(plans.get(label, [("?", "?", "?", "?", "ok")])):
        figures = f"{d['p50']:6.2f}ms {d['p90']:6.2f}ms {d['p99']:6.2f}ms {d['rps']:7.1f}" if k == 0 else " " * 38
        same = "same" if generic == head else generic
        print(f"    {label if k == 0 else '':<52} {figures}  {head} / {same}, {read} rows")
        if status != "ok":
            findings.append(f"{label}: {status}")
print()
if findings:
    print("    FINDINGS (slow or pathological plans):")
    for f in findings:
        print("     - " + f)
else:
    print("    no Seq Scan on referrals and no pathological plan")
PY
