#!/usr/bin/env bash
# `make bench`: start a throwaway PostgreSQL 15 unless DATABASE_URL is set (as .ci/run does),
# migrate, seed BENCH_HOMES homes, then run bench/run.py, which serves the site with gunicorn on
# loopback and writes bench/results/latest.{json,md} and docs/benchmarks.md.
set -euo pipefail

cd "$(dirname "$0")/.."
exec </dev/null

PY=.venv/bin/python
BENCH_HOMES="${BENCH_HOMES:-25000}"
export BENCH_DURATION="${BENCH_DURATION:-60}"
# shellcheck source=.ci/postgres.sh
. .ci/postgres.sh

stop_postgres() {
    local status=$?
    pg_stop "$status"
    exit "$status"
}
trap stop_postgres EXIT

if [ -z "${DATABASE_URL:-}" ]; then
    pg_start -c max_connections=200 -c shared_buffers=512MB
    export DATABASE_URL="$PG_URL"
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
