#!/usr/bin/env bash
# The console's pages at scale on PostgreSQL (issue 13: each page under 50 ms server-side at
# 100,000 referrals), each beside the API calls that read the same data.
#
#   bash bench/console.sh      # N=67000 inquiries (about 100,000 referrals); REQUESTS=100; BUILD=0 skips the build
#
# Builds the release binary, seeds a fresh database with bench/seed.sql, creates the triager of
# the seed (t@curie.fr) with the CLI, serves it, and runs bench/console.py: the triager signs in
# through the console's form, then each page and its API counterpart are read REQUESTS times,
# alternately, on keep-alive connections to 127.0.0.1. The database is dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
trap bench_cleanup EXIT

N="${N:-67000}"
REQUESTS="${REQUESTS:-100}"
PASSWORD='a long passphrase'

echo "# Console pages at scale: $N inquiries"
build_release
fresh_database "guichet_console_bench_$$"
start=$(date +%s%N)
psql -Xq -v n="$N" -f bench/seed.sql "$DB_URL" >/dev/null
printf '    seeded in %s ms: ' "$(( ($(date +%s%N) - start) / 1000000 ))"
psql -XAtq "$DB_URL" -c "SELECT (SELECT count(*) FROM inquiries) || ' inquiries, ' || (SELECT count(*) FROM referrals) || ' referrals, ' || (SELECT count(*) FROM referrals WHERE institution_id = 'curie') || ' at curie'"
printf '%s\n' "$PASSWORD" | "$BIN" users create --database-url "$DB_URL" --email t@curie.fr --role triager --institution curie --password-stdin >/dev/null
start_server
say "$REQUESTS requests per page and per API counterpart ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
python3 bench/console.py "$PORT" t@curie.fr "$PASSWORD" "$REQUESTS" ${SMOKE:+--smoke}
