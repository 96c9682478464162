#!/usr/bin/env bash
# Submission throughput on PostgreSQL, side by side with PostgreSQL itself running the same
# statements (pgbench, bench/submit_pgbench.sql), at the same concurrency and duration.
#
#   bash bench/submit_throughput.sh          # DURATION=20 CONCURRENCY="8 32"
#
# Builds the release binary; installs wrk from Debian if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-20}"
CONCURRENCY="${CONCURRENCY:-8 32}"
PG="postgres://postgres@127.0.0.1:5432"
DB="guichet_submit_$$"
URL="$PG/$DB"
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
    psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

echo "==> cargo build --release"
cargo build --release --quiet
BIN=target/release/guichet
psql -q "$PG/postgres" -c "CREATE DATABASE $DB"
"$BIN" migrate --database-url "$URL" >/dev/null
psql -q "$URL" -c "INSERT INTO throttles (key, hits, window_started_at) VALUES ('submit:address:127.0.0.1', 0, now())"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
GUICHET_JWT_SECRET="$(head -c 48 /dev/urandom | base64)" RUST_LOG=warn "$BIN" serve \
    --database-url "$URL" --bind "127.0.0.1:$PORT" --submissions-per-minute 1000000000 \
    --db-pool-size 32 >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$PORT/health/ready" >/dev/null 2>&1 && break; sleep 0.2; done

printf '%-12s %14s %14s %12s %12s %8s\n' concurrency "guichet req/s" "pgbench tps" "guichet p50" "guichet p99" ratio
for c in $CONCURRENCY; do
    wrk -t2 -c"$c" -d"${DURATION}s" --latency -s bench/submit.lua "http://127.0.0.1:$PORT/v1/inquiries" > "$WORK/wrk.txt"
    non2xx=$(grep -o 'Non-2xx or 3xx responses: [0-9]*' "$WORK/wrk.txt" | grep -o '[0-9]*$' || echo 0)
    rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
    p50=$(awk '$1=="50%" {print $2}' "$WORK/wrk.txt")
    p99=$(awk '$1=="99%" {print $2}' "$WORK/wrk.txt")
    tps=$(pgbench -n -c "$c" -j 2 -T "$DURATION" -f bench/submit_pgbench.sql "$URL" 2>/dev/null \
        | awk '/^tps/ {print $3; exit}')
    ratio=$(python3 -c "print(f'{float($tps)/float($rps):.2f}x')")
    printf '%-12s %14s %14s %12s %12s %8s\n' "$c" "$rps" "$tps" "$p50" "$p99" "$ratio"
    [ "${non2xx:-0}" = 0 ] || echo "    warning: $non2xx responses were not 2xx"
done
echo "    (ratio = pgbench tps / guichet req/s; wrk and pgbench each use 2 threads on the same 2 cores)"
echo "    inquiries created: $(psql -Atq "$URL" -c 'SELECT count(*) FROM inquiries')"
