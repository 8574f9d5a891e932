# Sourced by .ci/run, .ci/assurance and bench/run.sh: a throwaway PostgreSQL 15 cluster in a
# temporary directory, on a free loopback port, with durability off (the figures and the tests
# are about our code, not the disk). Works as root (through the postgres system user, which
# PostgreSQL insists on) or as a normal user.

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_USER_OS=""
PG_DIR=""
PG_PORT=""
PG_URL=""

as_pg() {
    if [ -n "$PG_USER_OS" ]; then
        runuser -u "$PG_USER_OS" -- "$@"
    else
        "$@"
    fi
}

# pg_start [server option ...]: initdb, start, create database tmo; sets PG_DIR, PG_PORT, PG_URL.
pg_start() {
    [ -x "$PG_BIN/initdb" ] || { echo "No PostgreSQL 15 at $PG_BIN; set DATABASE_URL or PG_BIN" >&2; return 1; }
    PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/tmo-pg.XXXXXX")"
    if [ "$(id -u)" = 0 ]; then
        PG_USER_OS=postgres
        if ! id "$PG_USER_OS" >/dev/null 2>&1; then
            useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER_OS"
        fi
        chown "$PG_USER_OS" "$PG_DIR"
    fi
    chmod 700 "$PG_DIR"
    PG_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U tmo --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off $*" >/dev/null
    as_pg "$PG_BIN/createdb" -h "$PG_DIR" -p "$PG_PORT" -U tmo tmo
    PG_URL="postgres://tmo@127.0.0.1:$PG_PORT/tmo"
}

# pg_stop [status]: stop and remove the cluster; after a failure, show the end of its log.
pg_stop() {
    local status="${1:-0}"
    if [ -n "$PG_DIR" ] && [ -d "$PG_DIR" ]; then
        if [ -f "$PG_DIR/data/postmaster.pid" ]; then
            as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null || true
        fi
        if [ "$status" -ne 0 ] && [ -f "$PG_DIR/server.log" ]; then
            echo "--- last lines of the PostgreSQL log ---"
            tail -n 30 "$PG_DIR/server.log" || true
        fi
        rm -rf "$PG_DIR"
    fi
}
