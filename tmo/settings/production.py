"""Production: every secret and the database come from the environment, or the site will not start."""

import os

from django.core.exceptions import ImproperlyConfigured


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(
            "Production settings need the environment variable %s; see README.md." % name
        )
    return value


# Checked before the base settings parse it, so that a blank or SQLite URL gets this message.
if not _required("DATABASE_URL").startswith(("postgres://", "postgresql://")):
    raise ImproperlyConfigured("Production runs on PostgreSQL: DATABASE_URL must be postgres://.")

from .base import *  # noqa: E402, F403
from .base import env_list  # noqa: E402

DEBUG = False
DEMO_MODE = False
SECRET_KEY = _required("SECRET_KEY")
# Comma-separated Fernet keys, newest first; older keys stay until `manage.py rotate_keys` has run.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", _required("FIELD_ENCRYPTION_KEYS"))
BLIND_INDEX_KEY = _required("BLIND_INDEX_KEY")
# Comma-separated id:secret pairs, newest first; keep an old pair while links made with it exist.
_audit_pairs = [
    p.partition(":") for p in env_list("AUDIT_CHAIN_KEYS", _required("AUDIT_CHAIN_KEYS"))
]
if not all(key_id and secret for key_id, _, secret in _audit_pairs):
    raise ImproperlyConfigured("AUDIT_CHAIN_KEYS must be comma-separated id:secret pairs.")
AUDIT_CHAIN_KEYS = {key_id: secret for key_id, _, secret in _audit_pairs}
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", _required("ALLOWED_HOSTS"))
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "true").lower() != "false"
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
# The __Host- prefix makes browsers refuse the cookie unless it is Secure, for this host only.
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "false").lower() == "true"

# The demo's fixed two-factor code (development.py) must never reach a live site.
if "DEMO_FIXED_OTP_CODE" in globals() or os.environ.get("DEMO_FIXED_OTP_CODE"):
    raise ImproperlyConfigured("DEMO_FIXED_OTP_CODE is for development only; remove it.")
