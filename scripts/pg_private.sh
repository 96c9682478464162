# shellcheck shell=bash
# A private PostgreSQL instance for the scripts that must stop, restart or reconfigure a server
# (TLS proof, outage bench). Sourced after lib.sh (uses on_exit, free_port, log, die), not run.
#
# Why private: those scripts stop the server or change pg_hba.conf; the machine's shared
# PostgreSQL on 127.0.0.1:5432 serves other work and must never be touched. The instance has its
# own data directory under a mktemp dir, its own free port, listens on 127.0.0.1 only (and on a
# Unix socket in that dir, for the script's own psql), and is stopped and removed on exit.
#
# PostgreSQL refuses to run as root, so initdb, pg_ctl and the server run as the `postgres` OS
# user (runuser) on files that user owns.

PG_BIN_DIR="${PG_BIN_DIR:-/usr/lib/postgresql/15/bin}"

# as_postgres CMD...: runs CMD as the postgres OS user, from a directory it may enter (root's
# working directory may be unreadable to it, which makes pg_ctl warn).
as_postgres() {
    (cd "$PG_DIR" && runuser -u postgres -- "$@")
}

# pg_private_init: initdb a fresh instance; sets PG_DIR, PG_DATA, PG_PORT, PG_SOCKET_DIR, PG_LOG.
# The caller may then add settings (pg_private_conf) and rewrite pg_hba.conf before starting.
pg_private_init() {
    [ "$(id -u)" = 0 ] || die "run as root: the private PostgreSQL runs as the postgres OS user through runuser"
    id postgres >/dev/null 2>&1 || die "there is no postgres OS user"
    if [ ! -x "$PG_BIN_DIR/initdb" ] || [ ! -x "$PG_BIN_DIR/pg_ctl" ]; then
        die "no initdb/pg_ctl in $PG_BIN_DIR (set PG_BIN_DIR)"
    fi
    command -v psql >/dev/null || die "psql is not installed"
    command -v runuser >/dev/null || die "runuser is not installed"
    PG_DIR="$(mktemp -d -t guichet-pg.XXXXXX)"
    # Registered before anything is started, so an interrupted init still removes the directory.
    on_exit "pg_private_destroy"
    chown postgres: "$PG_DIR"
    chmod 700 "$PG_DIR"
    PG_DATA="$PG_DIR/data"
    PG_SOCKET_DIR="$PG_DIR"
    PG_LOG="$PG_DIR/postgres.log"
    PG_PORT="$(free_port)"
    # --no-sync: a throwaway cluster need not be flushed to disk at creation.
    if ! as_postgres "$PG_BIN_DIR/initdb" -D "$PG_DATA" -U postgres --auth=trust \
            --encoding=UTF8 --locale=C --no-sync >"$PG_DIR/initdb.log" 2>&1; then
        cat "$PG_DIR/initdb.log" >&2
        die "initdb failed"
    fi
    # Appended to postgresql.conf (not passed with pg_ctl -o) so that a later `pg_ctl start`
    # after a stop brings the instance back with exactly the same settings.
    pg_private_conf \
        "listen_addresses = '127.0.0.1'" \
        "port = $PG_PORT" \
        "unix_socket_directories = '$PG_SOCKET_DIR'" \
        "max_connections = 50" \
        "logging_collector = off"
    # Default access: the Unix socket (the script's own psql) and plain TCP on 127.0.0.1.
    pg_private_hba \
        "local all all trust" \
        "host all all 127.0.0.1/32 trust"
}

# pg_private_conf LINE...: appends settings to postgresql.conf (read at the next start).
pg_private_conf() {
    printf '%s\n' "$@" >>"$PG_DATA/postgresql.conf"
}

# pg_private_hba LINE...: replaces pg_hba.conf (the file keeps its owner: it is truncated, not
# recreated). Read at the next start.
pg_private_hba() {
    printf '%s\n' "# written by scripts/pg_private.sh" "$@" >"$PG_DATA/pg_hba.conf"
}

# pg_private_start: starts the instance and waits until it accepts connections (-w, at most 60 s).
pg_private_start() {
    if ! as_postgres "$PG_BIN_DIR/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start >/dev/null; then
        tail -n 30 "$PG_LOG" >&2 || true
        return 1
    fi
}

# pg_private_stop [MODE]: stops it (fast by default: active sessions are terminated, as in an
# ordinary restart) and waits at most 60 s.
pg_private_stop() {
    as_postgres "$PG_BIN_DIR/pg_ctl" -D "$PG_DATA" -m "${1:-fast}" -w -t 60 stop >/dev/null
}

# pg_private_psql ARGS...: psql as postgres over the instance's Unix socket, unaligned, quiet.
pg_private_psql() {
    psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres -d postgres "$@"
}

# pg_private_destroy: stops the instance if it runs and removes its directory. Only the postmaster
# of this data directory is ever signalled, by the pid in its own postmaster.pid.
pg_private_destroy() {
    [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ] || return 0
    if [ -f "$PG_DATA/postmaster.pid" ]; then
        as_postgres "$PG_BIN_DIR/pg_ctl" -D "$PG_DATA" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
        if [ -f "$PG_DATA/postmaster.pid" ]; then
            local pid
            pid="$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)"
            if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
                kill -KILL "$pid" 2>/dev/null || true
            fi
        fi
    fi
    rm -rf "$PG_DIR"
    PG_DIR=
}
