#!/usr/bin/env bash
# How Guichet rides out a real PostgreSQL outage: what clients get while the database is down,
# how soon after it is back requests succeed again, and what --db-check-on-checkout costs.
#
# Builds nothing: uses $GUICHET_BIN (default target/debug/guichet, as scripts/lib.sh). Run as
# root: a private PostgreSQL (scripts/pg_private.sh: own data directory under a mktemp dir, own
# port, 127.0.0.1 only, run as the postgres OS user) is stopped and started for real; the shared
# PostgreSQL on 5432 is never touched. Everything is removed on exit.
#
#   bash bench/pg_outage.sh [extra serve flags...]     # e.g. --db-timeout-ms 1000; ~3 minutes
#
# For each mode (the server as is, then with --db-check-on-checkout; extra flags go to both):
#   outage     mixed GET /v1/referrals (operator bearer) and GET /health/ready; WARMUP s, then
#              pg_ctl stop -m fast, DOWN s later pg_ctl start, then AFTER s more
#   terminate  the same load; WARMUP_T s in, pg_terminate_backend() of every other backend of
#              the database (the server's pooled connections), then AFTER_T s more
# Then the steady-state cost of the check: two servers, one per mode, on the same database, and
# GET /v1/referrals sent to each in turn, ROUNDS rounds of STEADY/ROUNDS s per server (the order
# flips every round), so that the other work on this shared machine weighs on both alike.
# The load (bench/outage_load.py) is THREADS threads each starting a request every INTERVAL_MS
# (closed loop: never more than one in flight per thread), one keep-alive connection each.
#
# KEEP_DIR=DIR keeps the per-request CSVs and the server logs there (else all is removed).
#
# It reports what happened and never asserts on the server's answers: it exits non-zero only
# when the set-up fails (instance, server start, login).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/../scripts/lib.sh"
# shellcheck source=scripts/pg_private.sh
source "$(dirname "$0")/../scripts/pg_private.sh"
BENCH_DIR="$REPO_DIR/bench"

EXTRA_FLAGS=("$@")
THREADS="${THREADS:-4}"
INTERVAL_MS="${INTERVAL_MS:-20}"
STEADY="${STEADY:-10}"
ROUNDS="${ROUNDS:-5}"
WARMUP="${WARMUP:-8}"
DOWN="${DOWN:-10}"
AFTER="${AFTER:-10}"
WARMUP_T="${WARMUP_T:-5}"
AFTER_T="${AFTER_T:-8}"
# Every phase is bounded; the load generator has its own cap (--duration) on top of the stop file.
for v in STEADY ROUNDS WARMUP DOWN AFTER WARMUP_T AFTER_T; do
    if ! [[ "${!v}" =~ ^[0-9]+$ ]] || [ "${!v}" -gt 120 ]; then
        die "$v must be a whole number of seconds, at most 120"
    fi
done

require_binary
command -v curl >/dev/null || die "curl is not installed"

now() { date +%s.%N; }

log "private PostgreSQL instance"
pg_private_init
pg_private_start || die "the private PostgreSQL did not start"
WORK_DIR="$PG_DIR/work"
mkdir -m 700 "$WORK_DIR"
export WORK_DIR
# Plain TCP to 127.0.0.1, trust: what is measured is the pool, not authentication or TLS.
DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
export DATABASE_URL
"$GUICHET_BIN" migrate --database-url "$DATABASE_URL" >/dev/null
OPERATOR_EMAIL=ops@example.org
OPERATOR_PASSWORD='operator outage passphrase'
create_user "$OPERATOR_EMAIL" "$OPERATOR_PASSWORD" operator

echo "pg_outage: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "    binary $GUICHET_BIN (built $(date -u -r "$GUICHET_BIN" '+%Y-%m-%d %H:%M UTC')); checkout $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "    PostgreSQL $(pg_private_psql -c 'SHOW server_version') (private instance on 127.0.0.1:$PG_PORT)"
echo "    load: $THREADS threads, one request every $INTERVAL_MS ms each at most; phases: outage ${WARMUP}s + stop + ${DOWN}s + start + ${AFTER}s; terminate ${WARMUP_T}s + kill + ${AFTER_T}s;" \
     "steady ${STEADY}s per mode in $ROUNDS interleaved rounds"
echo "    extra serve flags: ${EXTRA_FLAGS[*]:-(none)}"

# load_bg NAME PATHS CAP: starts the load generator in the background until $WORK_DIR/NAME.stop
# exists (or CAP seconds); sets LOAD_PID.
load_bg() {
    rm -f "$WORK_DIR/$1.stop"
    OUTAGE_TOKEN="$TOKEN" python3 "$BENCH_DIR/outage_load.py" run --base "$BASE_URL" \
        --threads "$THREADS" --interval-ms "$INTERVAL_MS" --paths "$2" --duration "$3" \
        --until-file "$WORK_DIR/$1.stop" --out "$WORK_DIR/$1.csv" &
    LOAD_PID=$!
}
load_end() {
    touch "$WORK_DIR/$1.stop"
    wait "$LOAD_PID"
}

# Some referrals so that the list reads real rows: bench/submit.json, the benches' one sample
# inquiry, five times.
seed_inquiries() {
    local i code
    for i in 1 2 3 4 5; do
        code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -X POST "$BASE_URL/v1/inquiries" \
            -H 'Content-Type: application/json' -H "Idempotency-Key: outage-$i-$(date +%s%N)" -d @"$REPO_DIR/bench/submit.json")"
        [ "$code" = 201 ] || die "seeding: POST /v1/inquiries answered $code"
    done
}

login() {
    curl -fsS --max-time 30 "$BASE_URL/v1/auth/token" -H 'Content-Type: application/json' \
        -d "{\"email\": \"$OPERATOR_EMAIL\", \"password\": \"$OPERATOR_PASSWORD\"}" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

# run_mode NAME SERVE_FLAGS...: the three phases on one server start.
SEEDED=0
run_mode() {
    local name="$1"; shift
    local t_stop t_stopped t_start t_started t_kill t_killed killed
    echo
    echo "=== mode: $name (serve ${EXTRA_FLAGS[*]} $*)"
    start_server "${EXTRA_FLAGS[@]}" "$@" >/dev/null
    [ "$SEEDED" = 1 ] || { seed_inquiries; SEEDED=1; }
    TOKEN="$(login)" || die "login failed"

    echo "--- outage: pg_ctl stop -m fast, ${DOWN}s down, pg_ctl start"
    load_bg "outage.$name" /v1/referrals,/health/ready $((WARMUP + DOWN + AFTER + 60))
    sleep "$WARMUP"
    t_stop="$(now)"; pg_private_stop fast; t_stopped="$(now)"
    sleep "$DOWN"
    t_start="$(now)"; pg_private_start || die "the private PostgreSQL did not start again"; t_started="$(now)"
    sleep "$AFTER"
    load_end "outage.$name"
    python3 "$BENCH_DIR/outage_load.py" outage "$WORK_DIR/outage.$name.csv" \
        --stop "$t_stop" --stopped "$t_stopped" --start "$t_start" --started "$t_started"

    echo "--- terminate: pg_terminate_backend() of the server's connections mid-load"
    load_bg "terminate.$name" /v1/referrals,/health/ready $((WARMUP_T + AFTER_T + 60))
    sleep "$WARMUP_T"
    t_kill="$(now)"
    killed="$(pg_private_psql -c "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
        FROM pg_stat_activity WHERE datname = 'postgres' AND pid <> pg_backend_pid()")"
    t_killed="$(now)"
    echo "    terminated $killed backend(s)"
    sleep "$AFTER_T"
    load_end "terminate.$name"
    python3 "$BENCH_DIR/outage_load.py" terminate "$WORK_DIR/terminate.$name.csv" \
        --kill "$t_kill" --killed "$t_killed"

    stop_server
    # What the server logged (RUST_LOG=warn): connect failures are expected while it is down;
    # panics and internal errors are not.
    echo "--- server log: $(grep -c '' "$SERVER_LOG" || true) lines;" \
        "'database connection failed': $(grep -c 'database connection failed' "$SERVER_LOG" || true);" \
        "panics: $(grep -c 'panicked' "$SERVER_LOG" || true);" \
        "internal errors: $(grep -ciE 'internal_error|internal error' "$SERVER_LOG" || true)"
    grep -iE 'panicked|internal' "$SERVER_LOG" | head -n 5 | sed 's/^/    | /' || true
    # The causes the server logged for its 503s (first 70 characters, ports masked), and how many
    # log lines do not start with a timestamp (a cause that spans several lines).
    echo "    503 causes logged:"
    grep -o 'dependency unavailable error=.*' "$SERVER_LOG" | cut -c 30-99 | sed 's/port [0-9]*/port N/' |
        sort | uniq -c | sort -rn | sed 's/^/     /' || true
    echo "    log lines not starting with a timestamp: $(grep -cvE '^[0-9]{4}-' "$SERVER_LOG" || true)"
    cp "$SERVER_LOG" "$WORK_DIR/server.$name.log"
}

run_mode default
run_mode check-on-checkout --db-check-on-checkout

echo
echo "=== steady-state cost of --db-check-on-checkout (GET /v1/referrals, 200 answers only)"
# Two servers at once: lib.sh tracks one, so the first one's pid, URL and token are kept aside
# (and it is stopped on exit by its own pid). Each gets its own log directory.
ALL_WORK="$WORK_DIR"
declare -A S_URL S_TOKEN
for mode in default check-on-checkout; do
    WORK_DIR="$ALL_WORK/steady-$mode"
    mkdir -p "$WORK_DIR"
    if [ "$mode" = default ]; then
        start_server "${EXTRA_FLAGS[@]}" >/dev/null
        FIRST_PID="$SERVER_PID"
        # Single quotes on purpose: evaluated at exit, when FIRST_PID is empty once it was stopped.
        # shellcheck disable=SC2016
        on_exit '[ -z "${FIRST_PID:-}" ] || { kill "$FIRST_PID" 2>/dev/null; wait "$FIRST_PID" 2>/dev/null; }'
        SERVER_PID=
    else
        start_server "${EXTRA_FLAGS[@]}" --db-check-on-checkout >/dev/null
    fi
    S_URL[$mode]="$BASE_URL"
    S_TOKEN[$mode]="$(login)" || die "login failed"
done
WORK_DIR="$ALL_WORK"
chunk="$(awk -v s="$STEADY" -v r="$ROUNDS" 'BEGIN { printf "%.3f", s / r }')"
# Unmeasured: fill both pools.
for mode in default check-on-checkout; do
    BASE_URL="${S_URL[$mode]}" TOKEN="${S_TOKEN[$mode]}"
    load_bg "warm.$mode" /v1/referrals 2 >/dev/null
    wait "$LOAD_PID"
done
order=(default check-on-checkout)
for round in $(seq 1 "$ROUNDS"); do
    for mode in "${order[@]}"; do
        BASE_URL="${S_URL[$mode]}" TOKEN="${S_TOKEN[$mode]}"
        load_bg "steady.$mode.$round" /v1/referrals "$chunk" >/dev/null
        wait "$LOAD_PID"
    done
    order=("${order[1]}" "${order[0]}")
done
for mode in default check-on-checkout; do
    {
        head -n 1 "$WORK_DIR/steady.$mode.1.csv"
        for round in $(seq 1 "$ROUNDS"); do tail -n +2 "$WORK_DIR/steady.$mode.$round.csv"; done
    } >"$WORK_DIR/steady.$mode.csv"
done
python3 "$BENCH_DIR/outage_load.py" steady "$WORK_DIR/steady.default.csv" "$WORK_DIR/steady.check-on-checkout.csv"
stop_server
kill "$FIRST_PID" 2>/dev/null || true
wait "$FIRST_PID" 2>/dev/null || true
FIRST_PID=

if [ -n "${KEEP_DIR:-}" ]; then
    mkdir -p "$KEEP_DIR"
    cp "$WORK_DIR"/outage.*.csv "$WORK_DIR"/terminate.*.csv "$WORK_DIR"/steady.default.csv \
        "$WORK_DIR"/steady.check-on-checkout.csv "$WORK_DIR"/server.*.log "$KEEP_DIR"/
    echo "    per-request CSVs and server logs kept in $KEEP_DIR"
fi
echo
echo "pg_outage: done, load average $(cut -d' ' -f1-3 /proc/loadavg)"
