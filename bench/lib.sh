# Shared by the bench scripts (sourced, not run). Needs PostgreSQL on 127.0.0.1:5432, user
# postgres, trust authentication; talks to 127.0.0.1 only.

PG_ADMIN="${PG_ADMIN:-postgres://postgres@127.0.0.1:5432}"
BIN="${BIN:-target/release/guichet}"  # BIN=target/debug/guichet BUILD=0: a smoke run without a release build
SERVER_PID=""
BENCH_DB=""
WORK="$(mktemp -d)"

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

bench_cleanup() {
    stop_server
    if [ -n "$BENCH_DB" ]; then
        psql -Xq "$PG_ADMIN/postgres" -c "DROP DATABASE IF EXISTS \"$BENCH_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}

# The release binary, built from this checkout (BUILD=0 reuses the one already built).
build_release() {
    if [ "${BUILD:-1}" = 0 ]; then
        say "BUILD=0: using the existing $BIN"
    else
        say "cargo build --release"
        cargo build --release --quiet
    fi
    [ -x "$BIN" ] || die "$BIN is missing"
    echo "    $BIN built $(date -u -r "$BIN" '+%Y-%m-%d %H:%M UTC'); checkout at commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src migrations Cargo.toml 2>/dev/null || echo ' + uncommitted changes')"
}

# A fresh, migrated database named $1; sets BENCH_DB and DB_URL.
fresh_database() {
    BENCH_DB="$1"
    DB_URL="$PG_ADMIN/$BENCH_DB"
    psql -Xq -v ON_ERROR_STOP=1 "$PG_ADMIN/postgres" -c "CREATE DATABASE \"$BENCH_DB\"" >/dev/null
    "$BIN" migrate --database-url "$DB_URL" >/dev/null
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_server EXTRA_ARGS...: serves $DB_URL on a free port ($PORT), waits until ready.
JWT_SECRET="$(head -c 48 /dev/urandom | base64 -w0)"
start_server() {
    PORT="$(free_port)"
    GUICHET_JWT_SECRET="$JWT_SECRET" RUST_LOG="${RUST_LOG:-warn}" "$BIN" serve \
        --database-url "$DB_URL" --bind "127.0.0.1:$PORT" "$@" >>"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/health/ready" 2>/dev/null; then return 0; fi
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "the server exited"; }
        sleep 0.1
    done
    cat "$WORK/server.log" >&2
    die "the server did not become ready"
}

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}

# access_token EMAIL PASSWORD
access_token() {
    curl -fsS "http://127.0.0.1:$PORT/v1/auth/token" -H 'Content-Type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"$2\"}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# The file PostgreSQL writes its server log to (statement logging goes there).
postgres_log_file() {
    local f dir
    f="$(psql -XAtq "$PG_ADMIN/postgres" -c 'SELECT pg_current_logfile()' 2>/dev/null || true)"
    if [ -n "$f" ]; then
        case "$f" in
            /*) ;;
            *) dir="$(psql -XAtq "$PG_ADMIN/postgres" -c 'SHOW data_directory')"; f="$dir/$f" ;;
        esac
        [ -r "$f" ] && { echo "$f"; return 0; }
    fi
    # No logging collector (Debian's default): pg_ctlcluster sends stderr to /var/log/postgresql.
    f="$(ls -t /var/log/postgresql/postgresql-*.log 2>/dev/null | head -n 1 || true)"
    [ -n "$f" ] && [ -r "$f" ] && { echo "$f"; return 0; }
    return 1
}

machine_line() {
    echo "    machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), PostgreSQL $(psql -XAtq "$PG_ADMIN/postgres" -c 'SHOW server_version' | cut -d' ' -f1), $(date -u '+%Y-%m-%d %H:%M UTC')"
}
