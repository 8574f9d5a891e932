"""Production refuses to start without its secrets; development makes its own once."""

import json
import os
import stat
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.conf import settings

PRODUCTION_ENV = {
    "SECRET_KEY": "a-long-random-production-secret-key-for-this-test-only-0123456789",
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "BLIND_INDEX_KEY": "blind-index-key-for-this-test-only",
    "DATABASE_URL": "postgres://tmo:secret@localhost:5432/tmo",
    "ALLOWED_HOSTS": "records.tmo.example",
    "AUDIT_CHAIN_KEYS": "k1:audit-chain-key-for-this-test-only",
}

# Settings variables that must not leak in from the environment the tests run in.
CONTROLLED = [*PRODUCTION_ENV, "TMO_VAR_DIR", "DJANGO_SETTINGS_MODULE", "CSRF_TRUSTED_ORIGINS"]


def run_python(code: str, env: dict) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in CONTROLLED}
    clean.update(env)
    return subprocess.run(  # noqa: S603 - our own interpreter, fixed code
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_settings_load_with_every_variable_set(tmp_path):
    result = run_python(
        "import tmo.settings.production as s; "
        "print(s.DEBUG, s.ALLOWED_HOSTS, len(s.FIELD_ENCRYPTION_KEYS), "
        "s.DATABASES['default']['ENGINE'])",
        {**PRODUCTION_ENV, "TMO_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "['records.tmo.example']",
        "1",
        "django.db.backends.postgresql",
    ]
    # Production never writes development secrets.
    assert not (tmp_path / "dev-secrets.json").exists()


def test_production_takes_several_field_keys_newest_first(tmp_path):
    newest, older = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    result = run_python(
        "import tmo.settings.production as s; print(s.FIELD_ENCRYPTION_KEYS == %r)"
        % [newest, older],
        {**PRODUCTION_ENV, "FIELD_ENCRYPTION_KEYS": "%s, %s" % (newest, older)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


@pytest.mark.parametrize("missing", sorted(PRODUCTION_ENV))
@pytest.mark.parametrize("how", ["unset", "blank"])
def test_production_settings_refuse_to_load_without(missing, how, tmp_path):
    env = {**PRODUCTION_ENV, "TMO_VAR_DIR": str(tmp_path)}
    if how == "unset":
        del env[missing]
    else:
        env[missing] = "  "
    result = run_python("import tmo.settings.production", env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr
    # The message names the variable, never another variable's value.
    assert PRODUCTION_ENV["SECRET_KEY"] not in result.stderr


def test_production_refuses_sqlite(tmp_path):
    env = {**PRODUCTION_ENV, "DATABASE_URL": "sqlite:///%s/db.sqlite3" % tmp_path}
    result = run_python("import tmo.settings.production", env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "PostgreSQL" in result.stderr


def test_development_settings_generate_secrets_once(tmp_path):
    code = (
        "import json, tmo.settings.development as s; "
        "print(json.dumps([s.SECRET_KEY, s.FIELD_ENCRYPTION_KEYS, s.BLIND_INDEX_KEY]))"
    )
    first = run_python(code, {"TMO_VAR_DIR": str(tmp_path)})
    assert first.returncode == 0, first.stderr
    path = tmp_path / "dev-secrets.json"
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    stored = json.loads(path.read_text())
    secret_key, field_keys, blind_key = json.loads(first.stdout)
    assert {key: stored[key] for key in stored if key != "AUDIT_CHAIN_KEYS"} == {
        "SECRET_KEY": secret_key,
        "FIELD_ENCRYPTION_KEYS": field_keys,
        "BLIND_INDEX_KEY": blind_key,
    }
    assert len(secret_key) >= 50
    Fernet(field_keys[0])
    assert blind_key

    second = run_python(code, {"TMO_VAR_DIR": str(tmp_path)})
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == [secret_key, field_keys, blind_key]


def test_development_settings_use_sqlite_under_the_var_dir(tmp_path):
    result = run_python(
        "import tmo.settings.development as s; print(s.DATABASES['default']['NAME'])",
        {"TMO_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "db.sqlite3")


def test_test_settings_never_use_generated_or_real_secrets():
    assert settings.FIELD_ENCRYPTION_KEYS == ["lWBBu3k1lCPFxsM8s8Jyn6E2WxpWTGtC7Zzbbd4vFBQ="]
    assert not settings.DEBUG
