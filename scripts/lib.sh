# Shared helpers for the scripts in this folder: sourced, not run.
# They start the current target/debug/guichet on a free loopback port with a fresh database,
# create accounts and stop everything on exit. Nothing here builds the binary.

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPTS_DIR/.." && pwd)"
GUICHET_BIN="${GUICHET_BIN:-$REPO_DIR/target/debug/guichet}"
PG_ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

log() { printf '==> %s\n' "$*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

require_binary() {
    [ -x "$GUICHET_BIN" ] || die "no server binary at $GUICHET_BIN: build it first (cargo build); this script builds nothing"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Cleanup registry: functions run in reverse order on exit.
_CLEANUPS=()
on_exit() { _CLEANUPS+=("$1"); }
_run_cleanups() {
    local rc=$?
    local i
    for (( i=${#_CLEANUPS[@]}-1; i>=0; i-- )); do
        eval "${_CLEANUPS[$i]}" || true
    done
    exit "$rc"
}
trap _run_cleanups EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# make_database sqlite|postgres: sets DATABASE_URL to a fresh database and arranges its removal.
make_database() {
    local kind="$1"
    WORK_DIR="$(mktemp -d -t guichet-e2e.XXXXXX)"
    on_exit "rm -rf '$WORK_DIR'"
    case "$kind" in
        sqlite)
            DATABASE_URL="sqlite://$WORK_DIR/g.db"
            ;;
        postgres)
            command -v psql >/dev/null || die "psql is not installed"
            PG_DB="guichet_e2e_$(date +%s)_$$"
            psql -q -X -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $PG_DB" >/dev/null \
                || die "cannot create the database $PG_DB on 127.0.0.1:5432 (is PostgreSQL running?)"
            on_exit "psql -q -X -h 127.0.0.1 -U postgres -d postgres -c 'DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)' >/dev/null"
            DATABASE_URL="postgres://postgres@127.0.0.1:5432/$PG_DB"
            ;;
        *) die "unknown database kind '$kind' (sqlite or postgres)" ;;
    esac
    export DATABASE_URL WORK_DIR
}

# create_user EMAIL PASSWORD ROLE [INSTITUTION]
create_user() {
    local email="$1" password="$2" role="$3" institution="${4:-}"
    local args=(users create --database-url "$DATABASE_URL" --email "$email" --role "$role" --password-stdin)
    [ -n "$institution" ] && args+=(--institution "$institution")
    printf '%s\n' "$password" | "$GUICHET_BIN" "${args[@]}" >/dev/null \
        || die "cannot create the account $email ($role)"
}

# start_server [extra serve flags...]: sets PORT, BASE_URL, SERVER_PID, SERVER_LOG.
start_server() {
    PORT="$(free_port)"
    BASE_URL="http://127.0.0.1:$PORT"
    SERVER_LOG="$WORK_DIR/server.log"
    (
        cd "$WORK_DIR"
        GUICHET_DATABASE_URL="$DATABASE_URL" \
        GUICHET_JWT_SECRET="$(head -c 48 /dev/urandom | base64 -w0)" \
        RUST_LOG="${RUST_LOG:-warn}" \
            exec "$GUICHET_BIN" serve --bind "127.0.0.1:$PORT" "$@"
    ) >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    on_exit "stop_server"
    local i
    for i in $(seq 1 120); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            cat "$SERVER_LOG" >&2
            die "the server exited before it was ready"
        fi
        if [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE_URL/health/ready")" = 200 ]; then
            log "server ready at $BASE_URL (pid $SERVER_PID, $DATABASE_URL)"
            export PORT BASE_URL
            return 0
        fi
        sleep 0.5
    done
    cat "$SERVER_LOG" >&2
    die "the server did not become ready within 60 s"
}

stop_server() {
    [ -n "${SERVER_PID:-}" ] || return 0
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        local i
        for i in $(seq 1 60); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

# server_errors: prints the server log lines that look like panics or errors.
server_log_tail() { [ -f "${SERVER_LOG:-}" ] && tail -n "${1:-40}" "$SERVER_LOG"; }
