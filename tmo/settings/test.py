"""Test settings: fixed throwaway keys, fast hashing, tasks run at once, mail to the outbox."""

import os

from .base import *  # noqa: F403
from .base import BASE_DIR, DATABASES

DEBUG = False
DEMO_MODE = True
SECRET_KEY = "test-secret-key-not-for-any-real-use-0123456789abcdefghijklmnop"  # noqa: S105
FIELD_ENCRYPTION_KEYS = ["lWBBu3k1lCPFxsM8s8Jyn6E2WxpWTGtC7Zzbbd4vFBQ="]
BLIND_INDEX_KEY = "test-blind-index-key"  # noqa: S105
AUDIT_CHAIN_KEYS = {"test-1": "test-audit-chain-key"}
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# In one process, as a tiny bundle needs; tests/tmo/test_pdf.py lays out on several.
PDF_LAYOUT_WORKERS = 1
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# WhiteNoise would warn on every request that collectstatic has not run; tests serve from finders.
STATIC_ROOT = None
DOCUMENT_ROOT = BASE_DIR / "var" / "test-documents" / str(os.getpid())
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# PostgreSQL refuses TRUNCATE on the audit tables (tmo migration 0001) unless the session opts in;
# pytest-django empties tables between transactional tests with TRUNCATE, so test sessions do.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c tmo.allow_audit_truncate=on"
