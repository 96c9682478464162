#!/usr/bin/env bash
# End-to-end proof of the generated SDKs: starts the current target/debug/guichet (this script
# builds nothing) on a free loopback port with a fresh database, creates the accounts, then runs
# the Python, the TypeScript and the Go journeys (sdk/python/journey.py, sdk/typescript/journey.ts,
# sdk/go/journey/main.go) against it. The clients are (re)generated from openapi/openapi.json
# first. Go comes from Debian's golang-go: with CI=true it is installed with apt-get when `go`
# is missing; elsewhere a missing `go` fails the Go journey (go-generate).
#
#   scripts/e2e.sh sqlite
#   scripts/e2e.sh postgres     # needs PostgreSQL on 127.0.0.1:5432, user postgres, no password
#
# Exits non-zero when a journey fails; the server is stopped and the database removed either way.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

DB="${1:-}"
case "$DB" in
    sqlite|postgres) ;;
    *) echo "usage: $0 sqlite|postgres" >&2; exit 2 ;;
esac
require_binary

TRIAGER_EMAIL=triage@curie.fr
TRIAGER_PASSWORD='curie triager passphrase'

failed=()
python_ok=1
typescript_ok=1
go_ok=1
log "generating the Python client"
"$REPO_DIR/sdk/python/generate.sh" || { failed+=(python-generate); python_ok=0; }
log "generating the TypeScript types"
"$REPO_DIR/sdk/typescript/generate.sh" || { failed+=(typescript-generate); typescript_ok=0; }
if ! command -v go >/dev/null 2>&1 && [ "${CI:-}" = true ]; then
    log "installing Debian's golang-go"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -q >/dev/null && apt-get install -y -q golang-go >/dev/null; } \
        || echo "e2e.sh: could not install golang-go with apt-get" >&2
fi
log "generating the Go client and building the Go journey"
"$REPO_DIR/sdk/go/generate.sh" || { failed+=(go-generate); go_ok=0; }

log "fresh $DB database"
make_database "$DB"
create_user ops@example.org 'operator passphrase' operator
create_user admin@curie.fr 'curie admin passphrase' institution_admin curie
create_user "$TRIAGER_EMAIL" "$TRIAGER_PASSWORD" triager curie
start_server

if [ "$python_ok" = 1 ]; then
    log "Python journey ($DB)"
    if ! "$REPO_DIR/sdk/python/.venv/bin/python" "$REPO_DIR/sdk/python/journey.py" \
            "$BASE_URL" "$TRIAGER_EMAIL" "$TRIAGER_PASSWORD"; then
        failed+=(python-journey)
    fi
fi
if [ "$typescript_ok" = 1 ]; then
    log "type-checking sdk/typescript/journey.ts against the generated types"
    if ! (cd "$REPO_DIR/sdk/typescript" && npx --no-install tsc --noEmit -p .); then
        failed+=(typescript-typecheck)
    fi
    log "TypeScript journey ($DB)"
    if ! (cd "$REPO_DIR/sdk/typescript" && npx --no-install tsx journey.ts \
            "$BASE_URL" "$TRIAGER_EMAIL" "$TRIAGER_PASSWORD"); then
        failed+=(typescript-journey)
    fi
fi
if [ "$go_ok" = 1 ]; then
    log "Go journey ($DB)"
    if ! "$REPO_DIR/sdk/go/.bin/journey" "$BASE_URL" "$TRIAGER_EMAIL" "$TRIAGER_PASSWORD"; then
        failed+=(go-journey)
    fi
fi

if grep -qiE 'panicked|internal_error' "$SERVER_LOG"; then
    echo "--- server log (errors) ---" >&2
    grep -iE 'panicked|internal_error' "$SERVER_LOG" | head -20 >&2
    failed+=(server-log)
fi

if [ ${#failed[@]} -gt 0 ]; then
    die "e2e on $DB failed: ${failed[*]}"
fi
log "e2e on $DB passed: Python, TypeScript and Go journeys"
