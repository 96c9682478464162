#!/usr/bin/env bash
# Submission throughput on PostgreSQL, beside PostgreSQL itself running the same transaction.
#
#   bash bench/submit_throughput.sh     # DURATION=20 CONCURRENCY="8 32" POOL=10; BUILD=0 skips the build
#
# On a fresh database (migrated by the binary; 3 contacts per institution so that routing
# assigns referrals, as in production), for each concurrency C, each run starting from empty
# inquiry tables:
#   1. wrk: POST /v1/inquiries (bench/submit.lua, body bench/submit.json) for DURATION s with C
#      connections; the server runs with --submissions-per-minute 1000000 (every request comes
#      from 127.0.0.1) and a pool of POOL connections (10, the default);
#   2. pgbench -M prepared, C clients, DURATION s, bench/submit_core.pgbench: the submission's
#      write transaction (reference counter, inquiry, 2 referrals, 3 events), the statements the
#      server sends, as read from PostgreSQL's statement log;
#   3. pgbench, bench/submit_full.pgbench: everything the server sends per submission (the
#      throttle statements and the routing reads as well);
#   4. for information, pgbench bench/submit_nocounter.pgbench: step 2 without the per-year
#      reference counter, to show what that one hot row costs.
# Prints requests/s (transactions/s), p50 and p99 latency of each, and the factor
# pgbench / Guichet. Exits non-zero when a run fails (a non-2xx answer, a pgbench error).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
trap bench_cleanup EXIT

DURATION="${DURATION:-20}"
CONCURRENCY="${CONCURRENCY:-8 32}"
POOL="${POOL:-10}"
YEAR="$(date -u +%Y)"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v pgbench >/dev/null || die "pgbench is missing (Debian: postgresql-client)"

echo "# Submission throughput: Guichet beside pgbench, ${DURATION} s per run"
machine_line
build_release

say "fresh database, migrated by the binary, 3 contacts per institution"
fresh_database "guichet_submit_bench_$$"
psql -Xq -v ON_ERROR_STOP=1 "$DB_URL" <<'SQL'
INSERT INTO contacts (id, institution_id, name, title, email, expertise, active, created_at, updated_at)
SELECT gen_random_uuid()::text, i.id, 'Contact ' || g || ' of ' || i.name, 'Industrial partnerships',
       'contact' || g || '@' || i.id || '.bench.example',
       '{"inquiry_types":["clinical_trial"],"therapeutic_areas":["prostate"],"modalities":["radiopharmaceutical"]}',
       TRUE, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
FROM institutions i, generate_series(1, 3) g;
SQL
GR_CONTACT="$(psql -XAtq "$DB_URL" -c "SELECT id FROM contacts WHERE institution_id = 'gustave-roussy' ORDER BY id LIMIT 1")"
APHP_CONTACT="$(psql -XAtq "$DB_URL" -c "SELECT id FROM contacts WHERE institution_id = 'aphp' ORDER BY id LIMIT 1")"

reset_tables() {
    psql -Xq -v ON_ERROR_STOP=1 "$DB_URL" \
        -c "TRUNCATE events, messages, idempotency_keys, referrals, inquiries, reference_counters, throttles" \
        -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
}

# pgbench_run SCRIPT C -> "tps p50_ms p99_ms"
pgbench_run() {
    local script="$1" c="$2" out="$WORK/pgbench_$(basename "$1")_$2"
    rm -f "$out".log*
    if ! pgbench -n -M prepared -c "$c" -j 2 -T "$DURATION" -l --log-prefix="$out.log" \
        -D year="$YEAR" -D gr_contact="$GR_CONTACT" -D aphp_contact="$APHP_CONTACT" -D throttle_key=submit:address:127.0.0.1 \
        -f "$script" "$DB_URL" >"$out.txt" 2>&1 || grep -q 'aborted' "$out.txt"; then
        cat "$out.txt" >&2
        die "pgbench $script failed"
    fi
    python3 - "$out.txt" "$out".log* <<'PY'
import re, sys
text = open(sys.argv[1]).read()
tps = float(re.search(r"^tps = ([\d.]+)", text, re.M).group(1))
lat = sorted(int(line.split()[2]) / 1000 for f in sys.argv[2:] for line in open(f))
pick = lambda p: lat[max(0, -(-p * len(lat) // 100) - 1)]
print(f"{tps:.1f} {pick(50):.2f} {pick(99):.2f}")
PY
}

# wrk_run C -> "rps p50_ms p99_ms"
wrk_run() {
    local c="$1" out="$WORK/wrk_$1.txt"
    wrk -t2 -c"$c" -d"${DURATION}s" --timeout 10s --latency -s bench/submit.lua \
        "http://127.0.0.1:$PORT/v1/inquiries" >"$out"
    if grep -q 'Non-2xx or 3xx responses' "$out" || grep -q 'Socket errors' "$out"; then
        cat "$out" >&2
        tail -n 20 "$WORK/server.log" >&2
        die "wrk at concurrency $c got errors"
    fi
    python3 - "$out" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(p):
    v, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M).groups()
    return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
print(f"{rps:.1f} {ms(50):.2f} {ms(99):.2f}")
PY
}

say "server: default settings but --submissions-per-minute 1000000, pool of $POOL connections; stopped while pgbench runs"

ROWS=()
for c in $CONCURRENCY; do
    say "concurrency $c"
    reset_tables
    start_server --submissions-per-minute 1000000 --db-pool-size "$POOL"
    res="$(wrk_run "$c")"; read -r g_rps g_p50 g_p99 <<<"$res"
    stop_server
    read -r n_inq n_ref n_ev <<<"$(psql -XAtq -F' ' "$DB_URL" -c 'SELECT (SELECT count(*) FROM inquiries), (SELECT count(*) FROM referrals), (SELECT count(*) FROM events)')"
    echo "    guichet:  $g_rps req/s, p50 $g_p50 ms, p99 $g_p99 ms ($n_inq inquiries, $n_ref referrals, $n_ev events)"
    if [ "$n_ref" != "$((2 * n_inq))" ] || [ "$n_ev" != "$((3 * n_inq))" ]; then
        echo "    warning: the service did not write 2 referrals and 3 events per inquiry; the pgbench scripts no longer match it"
    fi
    reset_tables
    res="$(pgbench_run bench/submit_core.pgbench "$c")"; read -r c_tps c_p50 c_p99 <<<"$res"
    echo "    pgbench core transaction: $c_tps tps, p50 $c_p50 ms, p99 $c_p99 ms"
    reset_tables
    res="$(pgbench_run bench/submit_full.pgbench "$c")"; read -r f_tps f_p50 f_p99 <<<"$res"
    echo "    pgbench all statements:   $f_tps tps, p50 $f_p50 ms, p99 $f_p99 ms"
    reset_tables
    res="$(pgbench_run bench/submit_nocounter.pgbench "$c")"; read -r n_tps n_p50 n_p99 <<<"$res"
    echo "    pgbench core without the reference counter (not the service; the counter's cost): $n_tps tps, p50 $n_p50 ms, p99 $n_p99 ms"
    ROWS+=("$c $g_rps $g_p50 $g_p99 $c_tps $c_p50 $c_p99 $f_tps $f_p50 $f_p99")
done

say "summary (${DURATION} s per run, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); factor = pgbench tps / Guichet req/s)"
python3 - "${ROWS[@]}" <<'PY'
import sys
print(f"    {'C':>3} | {'Guichet req/s':>13} {'p50':>8} {'p99':>8} | {'pgbench core tps':>16} {'p50':>8} {'p99':>8} {'factor':>7} | {'pgbench all tps':>15} {'p50':>8} {'p99':>8} {'factor':>7}")
for row in sys.argv[1:]:
    c, g, gp50, gp99, ct, cp50, cp99, ft, fp50, fp99 = row.split()
    print(f"    {c:>3} | {float(g):13.1f} {gp50:>6}ms {gp99:>6}ms | {float(ct):16.1f} {cp50:>6}ms {cp99:>6}ms {float(ct)/float(g):6.2f}x"
          f" | {float(ft):15.1f} {fp50:>6}ms {fp99:>6}ms {float(ft)/float(g):6.2f}x")
PY
