#!/usr/bin/env bash
# CI proof that Guichet talks to PostgreSQL over TLS, and refuses a server it cannot verify.
#
# Builds nothing: uses $GUICHET_BIN (default target/debug/guichet, as lib.sh). Run as root: a
# private PostgreSQL (scripts/pg_private.sh) runs as the postgres OS user on its own port and
# data directory, never the shared one on 5432, and is removed on exit with the certificates.
#
# The instance's pg_hba.conf trusts TLS connections from 127.0.0.1 and rejects every non-TLS TCP
# connection (hostnossl ... reject), so any success of the server over TCP proves TLS was used.
#
#   scripts/pg_tls.sh
#
# Checks:
#   instance  psql verify-full against the instance with the CA (the set-up itself is right)
#   a         verify-full: users create, serve, POST /v1/inquiries 201, POST /v1/auth/token 200,
#             and pg_stat_ssl says the server's own backends use TLS
#   b         sslmode=require: serve starts, /health/ready 200
#   c         verify-full with a wrong CA: serve exits non-zero within seconds, one stderr line
#             naming the certificate problem
#   d         sslmode=disable: refused by the hostnossl rule at start, one stderr line
# Prints PASS/FAIL per check and exits non-zero when any failed.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/pg_private.sh
source "$(dirname "$0")/pg_private.sh"

require_binary
command -v openssl >/dev/null || die "the openssl CLI is not installed"
command -v curl >/dev/null || die "curl is not installed"

RESULTS=()
FAILED=0
pass() { RESULTS+=("PASS  $*"); log "PASS $*"; }
fail() { RESULTS+=("FAIL  $*"); log "FAIL $*"; FAILED=$((FAILED + 1)); }

OPERATOR_EMAIL=ops@example.org
OPERATOR_PASSWORD='operator tls passphrase'
# Set on the server's connections so that pg_stat_activity can tell them from psql's.
APP_NAME=guichet_pg_tls

# ---------------------------------------------------------------------------------------------
log "private PostgreSQL instance"
pg_private_init
WORK_DIR="$PG_DIR/work"   # root-owned: certificates' private CA key and the server logs
mkdir -m 700 "$WORK_DIR"
TLS_DIR="$PG_DIR/tls"     # postgres-owned: the server's certificate and key
mkdir -m 700 "$TLS_DIR"

# Throwaway CA and server certificate, generated for this run only (never committed). EC keys:
# quick to generate. The server certificate names localhost and 127.0.0.1 so that verify-full
# (host name check) passes for postgres://…@localhost.
log "throwaway CA and server certificate (openssl $(openssl version | cut -d' ' -f2))"
make_ca() { # NAME CN
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$WORK_DIR/$1.key" -out "$WORK_DIR/$1.crt" -days 2 -subj "/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
make_ca ca "Guichet pg_tls throwaway CA"
# A second, unrelated CA: what a client configured with the wrong root would hold.
make_ca wrong-ca "Guichet pg_tls unrelated CA"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$TLS_DIR/server.key" -out "$WORK_DIR/server.csr" -subj "/CN=localhost" 2>/dev/null
printf '%s\n' \
    "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" >"$WORK_DIR/server.ext"
openssl x509 -req -in "$WORK_DIR/server.csr" -CA "$WORK_DIR/ca.crt" -CAkey "$WORK_DIR/ca.key" \
    -CAcreateserial -days 2 -extfile "$WORK_DIR/server.ext" -out "$TLS_DIR/server.crt" 2>/dev/null
openssl verify -CAfile "$WORK_DIR/ca.crt" "$TLS_DIR/server.crt" >/dev/null \
    || die "the generated server certificate does not verify against its CA"
# PostgreSQL insists that the key belong to the server's user and be unreadable to others.
chown -R postgres: "$TLS_DIR"
chmod 600 "$TLS_DIR/server.key"
CA="$WORK_DIR/ca.crt"
WRONG_CA="$WORK_DIR/wrong-ca.crt"

pg_private_conf \
    "ssl = on" \
    "ssl_cert_file = '$TLS_DIR/server.crt'" \
    "ssl_key_file = '$TLS_DIR/server.key'" \
    "ssl_min_protocol_version = 'TLSv1.2'"
# TCP only over TLS: hostnossl rejects a plain connection before authentication. The Unix socket
# stays open for this script's own psql (it proves nothing about TCP and is not used by Guichet).
pg_private_hba \
    "local     all all              trust" \
    "hostssl   all all 127.0.0.1/32 trust" \
    "hostnossl all all 127.0.0.1/32 reject" \
    "host      all all ::1/128      reject"
pg_private_start || die "the private PostgreSQL did not start"
log "PostgreSQL $(pg_private_psql -c 'SHOW server_version') on 127.0.0.1:$PG_PORT, ssl=$(pg_private_psql -c 'SHOW ssl'), data in $PG_DATA"

# The same URL shape for every case; only sslmode and the root differ.
pg_url() { # SSLMODE [ROOT_CERT]
    local url="postgres://postgres@localhost:$PG_PORT/postgres?sslmode=$1&application_name=$APP_NAME"
    [ -n "${2:-}" ] && url="$url&sslrootcert=$2"
    printf '%s' "$url"
}

# Preflight without Guichet: if psql itself cannot do verify-full, the fault is in the set-up.
if out="$(psql -X -A -t -c 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()' \
        "$(pg_url verify-full "$CA")" 2>&1)" && [ "$out" = t ]; then
    pass "instance: psql connects with sslmode=verify-full and the CA (pg_stat_ssl.ssl = t)"
else
    fail "instance: psql with sslmode=verify-full: $out"
fi
if out="$(psql -X -A -t -c 'SELECT 1' "postgres://postgres@127.0.0.1:$PG_PORT/postgres?sslmode=disable" 2>&1)"; then
    fail "instance: a non-TLS psql connection was accepted; the hostnossl rule does not work"
else
    pass "instance: a non-TLS psql connection is rejected ($(printf '%s' "$out" | grep -o 'no encryption' | head -n 1))"
fi

# serve_bg NAME URL: starts the server in the background; sets PORT, BASE_URL, SERVER_PID, SERVER_LOG.
JWT_SECRET="$(head -c 48 /dev/urandom | base64 -w0)"
serve_bg() {
    PORT="$(free_port)"
    BASE_URL="http://127.0.0.1:$PORT"
    SERVER_LOG="$WORK_DIR/serve.$1.log"
    GUICHET_JWT_SECRET="$JWT_SECRET" RUST_LOG="${RUST_LOG:-warn}" \
        "$GUICHET_BIN" serve --database-url "$2" --bind "127.0.0.1:$PORT" >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
}
# wait_ready: 0 once /health/ready answers 200 (at most 30 s), 1 if the server exits or never does.
wait_ready() {
    local _
    for _ in $(seq 1 60); do
        kill -0 "$SERVER_PID" 2>/dev/null || return 1
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$BASE_URL/health/ready")" = 200 ] && return 0
        sleep 0.5
    done
    return 1
}
on_exit "stop_server"

# ---------------------------------------------------------------------------------------------
log "(a) sslmode=verify-full with the right CA"
URL_FULL="$(pg_url verify-full "$CA")"
if out="$(printf '%s\n' "$OPERATOR_PASSWORD" | "$GUICHET_BIN" users create --database-url "$URL_FULL" \
        --email "$OPERATOR_EMAIL" --role operator --password-stdin 2>&1)"; then
    pass "a: users create over verify-full ($out)"
else
    fail "a: users create over verify-full: $out"
fi
serve_bg verify-full "$URL_FULL"
if wait_ready; then
    pass "a: serve over verify-full is ready (200)"
    code="$(curl -s -o "$WORK_DIR/submit.json" -w '%{http_code}' --max-time 30 \
        -X POST "$BASE_URL/v1/inquiries" -H 'Content-Type: application/json' \
        -H "Idempotency-Key: pg-tls-$(date +%s)-$$" -d @"$REPO_DIR/bench/submit.json")" || code="curl-failed"
    if [ "$code" = 201 ]; then
        pass "a: POST /v1/inquiries 201 ($(grep -o '"reference":"[^"]*"' "$WORK_DIR/submit.json"))"
    else
        fail "a: POST /v1/inquiries answered $code: $(head -c 300 "$WORK_DIR/submit.json" 2>/dev/null)"
    fi
    code="$(curl -s -o "$WORK_DIR/token.json" -w '%{http_code}' --max-time 30 \
        -X POST "$BASE_URL/v1/auth/token" -H 'Content-Type: application/json' \
        -d "{\"email\": \"$OPERATOR_EMAIL\", \"password\": \"$OPERATOR_PASSWORD\"}")" || code="curl-failed"
    if [ "$code" = 200 ] && grep -q '"access_token"' "$WORK_DIR/token.json"; then
        pass "a: POST /v1/auth/token 200"
    else
        fail "a: POST /v1/auth/token answered $code: $(head -c 300 "$WORK_DIR/token.json" 2>/dev/null)"
    fi
    # The pool keeps its connections open between requests: read their TLS state from the server
    # side. Every backend with our application_name must be on TLS, and there must be some.
    ssl_rows="$(pg_private_psql -F ' ' -c "
        SELECT count(*), count(*) FILTER (WHERE s.ssl),
               coalesce(string_agg(DISTINCT s.version || '/' || s.cipher, ','), '-')
        FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
        WHERE a.application_name = '$APP_NAME' AND a.datname = 'postgres'")" || ssl_rows="query failed"
    read -r n_all n_ssl ssl_what <<<"$ssl_rows" || true
    if [ "${n_all:-0}" -ge 1 ] 2>/dev/null && [ "$n_all" = "$n_ssl" ]; then
        pass "a: pg_stat_ssl: $n_ssl of $n_all server backends on TLS ($ssl_what)"
    else
        fail "a: pg_stat_ssl: server backends total/ssl = $ssl_rows"
    fi
else
    fail "a: serve over verify-full never became ready: $(tail -n 5 "$SERVER_LOG")"
fi
stop_server

# ---------------------------------------------------------------------------------------------
log "(b) sslmode=require (encrypted, no certificate check)"
serve_bg require "$(pg_url require)"
if wait_ready; then
    pass "b: serve over sslmode=require is ready (200)"
else
    fail "b: serve over sslmode=require never became ready: $(tail -n 5 "$SERVER_LOG")"
fi
stop_server

# ---------------------------------------------------------------------------------------------
# expect_start_failure CHECK NAME URL PATTERN: serve must exit non-zero within 10 s and print
# exactly one stderr line matching PATTERN. Runs with the default log filter (RUST_LOG unset),
# what an operator sees; stdout and stderr are captured apart.
expect_start_failure() {
    local check="$1" name="$2" url="$3" pattern="$4"
    local out="$WORK_DIR/fail.$name.out" err="$WORK_DIR/fail.$name.err"
    local t0 t1 rc=0 elapsed lines
    t0="$(date +%s.%N)"
    env -u RUST_LOG GUICHET_JWT_SECRET="$JWT_SECRET" timeout -k 5 30 \
        "$GUICHET_BIN" serve --database-url "$url" --bind "127.0.0.1:$(free_port)" \
        >"$out" 2>"$err" || rc=$?
    t1="$(date +%s.%N)"
    elapsed="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
    lines="$(grep -c '' "$err" || true)"
    log "$check: exit $rc after ${elapsed}s, $lines stderr line(s), $(grep -c '' "$out" || true) stdout line(s):"
    sed 's/^/    stderr| /' "$err"
    if [ "$rc" = 0 ] || [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        fail "$check: serve did not fail at start (exit $rc after ${elapsed}s)"
    elif awk -v e="$elapsed" 'BEGIN { exit !(e > 10) }'; then
        fail "$check: serve failed (exit $rc) but only after ${elapsed}s"
    elif [ "$lines" != 1 ]; then
        fail "$check: serve exited $rc in ${elapsed}s but printed $lines stderr lines (expected 1)"
    elif ! grep -qiE "$pattern" "$err"; then
        fail "$check: the stderr line does not match /$pattern/: $(cat "$err")"
    else
        pass "$check: exit $rc in ${elapsed}s, one line: $(cat "$err")"
    fi
}

log "(c) sslmode=verify-full with an unrelated CA"
expect_start_failure c wrong-ca "$(pg_url verify-full "$WRONG_CA")" 'certificate|verify'

log "(d) sslmode=disable against hostnossl reject"
expect_start_failure d disable "$(pg_url disable)" 'pg_hba|no encryption|reject'

# ---------------------------------------------------------------------------------------------
echo
echo "pg_tls summary ($GUICHET_BIN, PostgreSQL on 127.0.0.1:$PG_PORT):"
printf '  %s\n' "${RESULTS[@]}"
if [ "$FAILED" -gt 0 ]; then
    echo "pg_tls: $FAILED check(s) FAILED"
    exit 1
fi
echo "pg_tls: all ${#RESULTS[@]} checks PASSED"
