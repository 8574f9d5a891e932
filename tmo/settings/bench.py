"""Benchmark settings (`make bench`): production's settings, served over plain http on loopback.

Everything that shapes the cost of a page stays as in production: DEBUG off, the same
middleware, password hashing, encrypted fields and audit chain. What changes is only what
http on 127.0.0.1 needs (no TLS redirect, no Secure or __Host- cookies), the benchmark's own
baseline pages (bench/urls.py, mounted only here), and DEMO_MODE so that the seeding commands
run. bench/run.sh exports throwaway secrets for each run. Never use these settings on a live site.
"""

from .production import *  # noqa: F403
from .production import INSTALLED_APPS

# Seeding invents people and accounts, so seed_demo and seed_scale refuse to run without this.
# The demo's fixed two-factor code stays off: it also needs DEBUG, and this file never sets it.
DEMO_MODE = True

ROOT_URLCONF = "bench.urls"
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]

# Plain http on loopback: a TLS redirect or a Secure cookie would stop every request.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_HSTS_PRELOAD = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SESSION_COOKIE_NAME = "sessionid"
CSRF_COOKIE_NAME = "csrftoken"

# The pages name their static files; the manifest would need collectstatic before every run,
# and nothing here asks for the files themselves.
STATIC_ROOT = None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Sign-off and completion send mail; nothing may leave the machine.
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"

# One line per request at INFO would cost more than some of the pages being measured.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
