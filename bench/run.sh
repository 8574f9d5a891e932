#!/usr/bin/env bash
# `make bench`: start a throwaway PostgreSQL 15 unless DATABASE_URL is set (as .ci/run does),
# migrate, seed BENCH_HOMES homes, then run bench/run.py, which serves the site with gunicorn on
# loopback and writes bench/results/latest.{json,md} and docs/benchmarks.md.
set -euo pipefail

cd "$(dirname "$0")/.."
exec </dev/null

PY=.venv/bin/python
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
BENCH_HOMES="${BENCH_HOMES:-25000}"
export BENCH_DURATION="${BENCH_DURATION:-60}"
PG_USER_OS=""
PG_DIR=""

as_pg() {
    if [ -n "$PG_USER_OS" ]; then
        runuser -u "$PG_USER_OS" -- "$@"
    else
        "$@"
    fi
}

stop_postgres() {
    local status=$?
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
    exit "$status"
}
trap stop_postgres EXIT

if [ -z "${DATABASE_URL:-}" ]; then
    [ -x "$PG_BIN/initdb" ] || { echo "No PostgreSQL 15 at $PG_BIN; set DATABASE_URL or PG_BIN" >&2; exit 1; }
    PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/tmo-bench-pg.XXXXXX")"
    if [ "$(id -u)" = 0 ]; then
        # PostgreSQL refuses to run as root: use the postgres system user, creating it if needed.
        PG_USER_OS=postgres
        if ! id "$PG_USER_OS" >/dev/null 2>&1; then
            useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER_OS"
        fi
        chown "$PG_USER_OS" "$PG_DIR"
    fi
    chmod 700 "$PG_DIR"
    PG_PORT="$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U tmo --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    # Durability off, as on CI: the figures are about our code, not the disk.
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=512MB" >/dev/null
    as_pg "$PG_BIN/createdb" -h "$PG_DIR" -p "$PG_PORT" -U tmo tmo
    export DATABASE_URL="postgres://tmo@127.0.0.1:$PG_PORT/tmo"
    echo "PostgreSQL for the benchmark on 127.0.0.1:$PG_PORT"
fi

# Production settings with throwaway secrets (tmo/settings/bench.py); the same for every process.
mkdir -p var/bench
export DJANGO_SETTINGS_MODULE=tmo.settings.bench
export TMO_DOCUMENT_ROOT="${TMO_DOCUMENT_ROOT:-$PWD/var/bench/documents}"
export TMO_AUDIT_CHECKPOINT_DIR="$PWD/var/bench/audit-checkpoints"
export ALLOWED_HOSTS="127.0.0.1,localhost"
secrets_file=var/bench/secrets.env
if [ ! -f "$secrets_file" ]; then
    # Kept between runs, so that a database seeded before (DATABASE_URL) stays readable.
    (
        umask 077
        $PY - >"$secrets_file" <<'PYEOF'
import secrets
from cryptography.fernet import Fernet
print("SECRET_KEY=" + secrets.token_urlsafe(50))
print("FIELD_ENCRYPTION_KEYS=" + Fernet.generate_key().decode())
print("BLIND_INDEX_KEY=" + secrets.token_urlsafe(32))
print("AUDIT_CHAIN_KEYS=bench-1:" + secrets.token_urlsafe(32))
PYEOF
    )
fi
set -a
# shellcheck disable=SC1090
. "$secrets_file"
set +a

$PY manage.py migrate --noinput -v 0
people="$($PY -c 'import django; django.setup(); from records.models import Person; print(Person.objects.count())')"
if [ "$people" -gt 0 ]; then
    # A database given by DATABASE_URL and seeded before: measure what is there.
    export BENCH_SEED="${BENCH_SEED:-the existing database ($people people)}"
    echo "The register already holds $people people: not seeding."
elif [ -f records/management/commands/seed_scale.py ]; then
    export BENCH_SEED="seed_scale --homes $BENCH_HOMES"
    echo "Seeding: manage.py $BENCH_SEED"
    $PY manage.py seed_scale --homes "$BENCH_HOMES"
else
    # Until seed_scale exists: the demo seeder, which makes far fewer rows per home.
    export BENCH_SEED="seed_demo --homes $BENCH_HOMES"
    echo "Seeding: manage.py $BENCH_SEED (seed_scale not found)"
    $PY manage.py seed_demo --homes "$BENCH_HOMES"
fi
$PY -m bench.run
