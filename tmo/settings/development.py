"""Settings for a first run on a developer's machine: SQLite under var/, secrets generated once."""

import json
import secrets

from cryptography.fernet import Fernet

from .base import *  # noqa: F403
from .base import VAR_DIR, env_list


def _development_secrets() -> dict:
    """Generate the secret key, field keys and blind-index key once, into an ignored file."""
    path = VAR_DIR / "dev-secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    values = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": [Fernet.generate_key().decode()],
        "BLIND_INDEX_KEY": secrets.token_urlsafe(32),
        "AUDIT_CHAIN_KEYS": {"dev-1": secrets.token_urlsafe(32)},
    }
    path.write_text(json.dumps(values, indent=2))
    path.chmod(0o600)
    return values


_secrets = _development_secrets()
if "AUDIT_CHAIN_KEYS" not in _secrets:
    # Secrets files written before the audit chain existed gain its key once, in place.
    _secrets["AUDIT_CHAIN_KEYS"] = {"dev-1": secrets.token_urlsafe(32)}
    (VAR_DIR / "dev-secrets.json").write_text(json.dumps(_secrets, indent=2))

DEBUG = True
SECRET_KEY = _secrets["SECRET_KEY"]
FIELD_ENCRYPTION_KEYS = _secrets["FIELD_ENCRYPTION_KEYS"]
BLIND_INDEX_KEY = _secrets["BLIND_INDEX_KEY"]
AUDIT_CHAIN_KEYS = _secrets["AUDIT_CHAIN_KEYS"]
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
DEMO_MODE = True

# Demo only: every account passes the two-factor step with this documented code, so a newcomer
# can try each role from `make run` without an authenticator app. The code path also needs
# DEMO_MODE and DEBUG; production and test settings never define this setting.
DEMO_FIXED_OTP_CODE = "123456"
