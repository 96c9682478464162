#!/usr/bin/env bash
# Costs that do not grow with the data (issue 14): the same calls side by side on a small and a
# large PostgreSQL database.
#
#   bash bench/scale.sh     # SMALL=10000 LARGE=1000000 inquiries; REQUESTS=100 per call and
#                           # round; ROUNDS=3; PLANS=bench/results/scale.plans (prefix); BUILD=0
#
# 1. builds the release binary; creates two fresh databases, migrates them with the binary and
#    seeds SMALL and LARGE inquiries (bench/seed.sql, set-based SQL, ~1.5 referrals each), and
#    says how long each seed took;
# 2. logs every statement of both databases, calls each measured endpoint once on each, and
#    writes EXPLAIN (ANALYZE, BUFFERS) of the server's statements on `referrals` with their
#    parameters (bench/pg_statements.py) to $PLANS.small.txt and $PLANS.large.txt;
# 3. restarts both servers without statement logging and, ROUNDS times, measures REQUESTS
#    sequential requests of each call on the small database then on the large one
#    (bench/latency.py); prints, per call, the median over the rounds of the p50 at small and
#    at large, and their ratio (the issue's target: ≤ 1.5).
# The deep queue page is page DEEP_PAGE (1,000) at limit 20 following next_cursor, or the
# deepest page the small database's queue has, whichever is smaller: the same page number on
# both databases, and the script says which. Both databases are dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

SMALL="${SMALL:-10000}"
LARGE="${LARGE:-1000000}"
REQUESTS="${REQUESTS:-100}"
ROUNDS="${ROUNDS:-3}"
DEEP_PAGE="${DEEP_PAGE:-1000}"
PLANS="${PLANS:-bench/results/scale.plans}"
PASSWORD='a long passphrase'
LOG="$(postgres_log_file)" || die "cannot find PostgreSQL's log file (pg_current_logfile() or /var/log/postgresql)"
DBS=(small large)
declare -A DB_NAME DB_URLS PORTS PIDS TOKENS N_OF
N_OF[small]="$SMALL"
N_OF[large]="$LARGE"

scale_cleanup() {
    for d in "${DBS[@]}"; do
        if [ -n "${PIDS[$d]:-}" ]; then
            kill "${PIDS[$d]}" 2>/dev/null || true
            wait "${PIDS[$d]}" 2>/dev/null || true
        fi
        if [ -n "${DB_NAME[$d]:-}" ]; then
            psql -Xq "$PG_ADMIN/postgres" -c "DROP DATABASE IF EXISTS \"${DB_NAME[$d]}\" WITH (FORCE)" >/dev/null 2>&1 || true
        fi
    done
    bench_cleanup
}
trap scale_cleanup EXIT

# serve DB: starts the server of database DB (small | large) on its own port.
serve() {
    DB_URL="${DB_URLS[$1]}"
    start_server --submissions-per-minute 1000000
    PORTS[$1]="$PORT"
    PIDS[$1]="$SERVER_PID"
    SERVER_PID=""
}
unserve() {
    kill "${PIDS[$1]}" 2>/dev/null || true
    wait "${PIDS[$1]}" 2>/dev/null || true
    PIDS[$1]=""
}

echo "# Scale: the same calls at $SMALL and at $LARGE inquiries"
machine_line
build_release

for d in "${DBS[@]}"; do
    say "$d: fresh database, migrated by the binary, seeded with ${N_OF[$d]} inquiries"
    DB_NAME[$d]="guichet_scale_${d}_$$"
    fresh_database "${DB_NAME[$d]}"
    BENCH_DB=""
    DB_URLS[$d]="$DB_URL"
    start=$(date +%s%N)
    psql -Xq -v n="${N_OF[$d]}" -f bench/seed.sql "$DB_URL" >/dev/null
    printf '    seeded and analyzed in %s s: ' "$(( ($(date +%s%N) - start) / 1000000000 ))"
    psql -XAtq -F' ' "$DB_URL" -c "SELECT (SELECT count(*) FROM inquiries) || ' inquiries, ' || (SELECT count(*) FROM referrals) || ' referrals (curie ' || (SELECT count(*) FROM referrals WHERE institution_id = 'curie') || '), ' || (SELECT count(*) FROM contacts) || ' contacts; database ' || pg_size_pretty(pg_database_size(current_database()))"
    printf '%s\n' "$PASSWORD" | "$BIN" users create --database-url "$DB_URL" --email t@curie.fr --role triager --institution curie --password-stdin >/dev/null
done

CURIE_SMALL=$(psql -XAtq "${DB_URLS[small]}" -c "SELECT count(*) FROM referrals WHERE institution_id = 'curie'")
DEEPEST=$(( (CURIE_SMALL - 1) / 20 ))
PAGE=$(( DEEP_PAGE < DEEPEST ? DEEP_PAGE : DEEPEST ))
if [ "$PAGE" -lt "$DEEP_PAGE" ]; then
    echo "    deep queue page: page $PAGE at limit 20 (curie has $CURIE_SMALL referrals at $SMALL inquiries: page $DEEP_PAGE does not exist there)"
else
    echo "    deep queue page: page $PAGE at limit 20"
fi

Q='Kestrel%20Pharma%2042'
# label | path (a path starting with @deep is the deep page, its cursor taken per database)
CALLS=(
    "/v1/referrals/summary|/v1/referrals/summary"
    "queue page $PAGE (next_cursor chain, limit 20)|@deep"
    "queue q=Kestrel Pharma 42 (free text)|/v1/referrals?q=$Q"
    "queue first page|/v1/referrals"
)
SUBMIT="submit an inquiry (POST /v1/inquiries)"
declare -A DEEP_PATH

call_path() { # DB PATH
    if [ "$2" = "@deep" ]; then echo "${DEEP_PATH[$1]}"; else echo "$2"; fi
}

say "statement logging on both databases; one call of each; statements read back from $LOG"
for d in "${DBS[@]}"; do
    psql -Xq "$PG_ADMIN/postgres" -c "ALTER DATABASE \"${DB_NAME[$d]}\" SET log_min_duration_statement = 0"
    serve "$d"
    PORT="${PORTS[$d]}"
    TOKENS[$d]="$(access_token t@curie.fr "$PASSWORD")"
    DEEP_PATH[$d]="/v1/referrals?limit=20&cursor=$(python3 bench/latency.py cursor "$PORT" "${TOKENS[$d]}" '/v1/referrals?limit=20' "$PAGE")"
    SEGMENTS=()
    i=0
    for call in "${CALLS[@]}"; do
        IFS='|' read -r label path <<<"$call"
        path="$(call_path "$d" "$path")"
        i=$((i + 1))
        offset=$(stat -c %s "$LOG")
        curl -fsS -o /dev/null "http://127.0.0.1:$PORT$path" -H "Authorization: Bearer ${TOKENS[$d]}" || die "GET $path failed"
        sleep 0.2
        tail -c +"$((offset + 1))" "$LOG" >"$WORK/$d.call_$i.log"
        SEGMENTS+=("$WORK/$d.call_$i.log=$label")
    done
    offset=$(stat -c %s "$LOG")
    curl -fsS -o /dev/null "http://127.0.0.1:$PORT/v1/inquiries" -H 'Content-Type: application/json' -d @bench/submit.json || die "POST /v1/inquiries failed"
    sleep 0.2
    tail -c +"$((offset + 1))" "$LOG" >"$WORK/$d.submit.log"
    SEGMENTS+=("$WORK/$d.submit.log=$SUBMIT")
    unserve "$d"
    psql -Xq "$PG_ADMIN/postgres" -c "ALTER DATABASE \"${DB_NAME[$d]}\" RESET log_min_duration_statement"
    {
        echo "# Plans at ${N_OF[$d]} inquiries ($d), bench/scale.sh, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
        python3 bench/pg_statements.py "${DB_URLS[$d]}" "${DB_NAME[$d]}" "$WORK/$d.plans.tsv" "${SEGMENTS[@]}"
    } >"$PLANS.$d.txt"
    echo "    $d: plans written to $PLANS.$d.txt"
    while IFS=$'\t' read -r label n head read ms generic status; do
        [ -n "$label" ] && printf '      %-44s stmt %s: %s, %s referrals rows, %s%s\n' "$label" "$n" "$head" "$read" "$ms" "$([ "$status" = ok ] || echo "; $status")"
    done <"$WORK/$d.plans.tsv"
done

say "latency: $ROUNDS rounds; each call $REQUESTS sequential requests (after 10 unmeasured) on small, then on large"
for d in "${DBS[@]}"; do serve "$d"; done
for r in $(seq 1 "$ROUNDS"); do
    for d in "${DBS[@]}"; do
        echo "    round $r, $d (${N_OF[$d]} inquiries):"
        ARGS=()
        for call in "${CALLS[@]}"; do
            IFS='|' read -r label path <<<"$call"
            ARGS+=("$label" "${TOKENS[$d]}" "$(call_path "$d" "$path")")
        done
        LATENCY_OUT="$WORK/latency.$d.jsonl" python3 bench/latency.py post "${PORTS[$d]}" "$REQUESTS" "$SUBMIT" /v1/inquiries bench/submit.json
        LATENCY_OUT="$WORK/latency.$d.jsonl" python3 bench/latency.py get "${PORTS[$d]}" "$REQUESTS" "${ARGS[@]}"
    done
done

say "summary: median over $ROUNDS rounds of each round's p50 ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
python3 - "$WORK/latency.small.jsonl" "$WORK/latency.large.jsonl" "$SMALL" "$LARGE" <<'PY'
import json, statistics, sys
def read(path):
    out = {}
    for line in open(path):
        d = json.loads(line)
        out.setdefault(d["label"], []).append(d["p50"])
    return out
small, large = read(sys.argv[1]), read(sys.argv[2])
n_small, n_large = int(sys.argv[3]), int(sys.argv[4])
print(f"    | call | p50 at {n_small:,} | p50 at {n_large:,} | ratio |")
print("    |---|---|---|---|")
for label in small:
    s, l = statistics.median(small[label]), statistics.median(large[label])
    print(f"    | {label} | {s:.2f} ms | {l:.2f} ms | {l / s:.2f}× |")
PY
