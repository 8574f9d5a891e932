"""Settings shared by every environment. Values that differ come from the environment (12-factor)."""

import datetime
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("TMO_VAR_DIR", BASE_DIR / "var"))


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "guardian",
    "auditlog",
    "django_tasks",
    "django_tasks_db",
    "tmo",
    "access",
    "records",
    "disclosures",
    "sar",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tmo.middleware.RequestIdMiddleware",
    # Turns a value no configured key opens into a page saying so (never its ciphertext).
    "tmo.middleware.UnreadableRecordMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "access.middleware.AccessPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the messages: a timed-out session is ended with a message saying why.
    "access.middleware.SessionTimeoutMiddleware",
    "access.middleware.TwoFactorMiddleware",
    # After two-factor: tells a signed-in user why records are hidden (unsigned code, lapsed training).
    "access.compliance.ComplianceNoticeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "tmo.middleware.NoStoreMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tmo.urls"
WSGI_APPLICATION = "tmo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tmo.context_processors.site",
                "access.context_processors.emergency_access",
                "access.context_processors.breach_clocks",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default="sqlite:///" + str(VAR_DIR / "db.sqlite3"), conn_max_age=60
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First, so that a locked-out username and address never reach the password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Guardian: no anonymous user row, and our policies never fall back to global or superuser rights.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_404 = True
GUARDIAN_USER_OBJ_PERMS_MODEL = "guardian.UserObjectPermission"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    ("govuk", BASE_DIR / "node_modules" / "govuk-frontend" / "dist" / "govuk"),
    ("moj", BASE_DIR / "node_modules" / "@ministryofjustice" / "frontend" / "moj"),
    BASE_DIR / "tmo" / "static",
]

# Documents live outside any served directory: they leave only through the policy-checked view.
DOCUMENT_ROOT = Path(os.environ.get("TMO_DOCUMENT_ROOT", VAR_DIR / "documents"))
DOCUMENT_MAX_BYTES = int(os.environ.get("TMO_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
# Processes a long PDF (a subject access bundle) is laid out on, a part each (tmo.pdf). Each holds
# one part's layout, about 150 MB at most; the default uses two cores where there are two.
PDF_LAYOUT_WORKERS = int(os.environ.get("TMO_PDF_LAYOUT_WORKERS", min(2, os.cpu_count() or 1)))
# Run by the worker once a day at DAILY_JOBS_AT, local time (tmo.daily). Each takes no arguments.
# A reported breach no data protection lead has acknowledged in this many hours goes to the
# senior officers (access.services.breaches).
BREACH_ACKNOWLEDGE_HOURS = int(os.environ.get("TMO_BREACH_ACKNOWLEDGE_HOURS", 4))
DAILY_JOBS_AT = "02:00"
DAILY_JOBS = [
    "sar.services.requests.due_reminders",
    "tmo.auditchain.daily_verify_and_checkpoint",
    "access.services.retention.daily_sweep",
    "sar.services.bundles.recover_stalled_builds",
    "access.services.breaches.daily_breach_check",
    "access.services.unusual_access.daily_unusual_access_check",
]

AUDITLOG_CID_GETTER = "tmo.middleware.current_request_id"
AUDITLOG_MASK_CALLABLE = "tmo.audit.mask_fully"
AUDITLOG_STORE_JSON_CHANGES = True
# The audit hash chain (tmo.auditchain): key id -> secret, newest first; set per environment.
AUDIT_CHAIN_KEYS: dict[str, str] = {}
# Where the daily job writes signed checkpoints; copy them off the server (README, Audit trail).
AUDIT_CHECKPOINT_DIR = Path(
    os.environ.get("TMO_AUDIT_CHECKPOINT_DIR", VAR_DIR / "audit-checkpoints")
)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Read by access.middleware.SessionTimeoutMiddleware: a session ends after this long without a
# request, and in any case this long after sign-in, whatever the activity.
SESSION_IDLE_TIMEOUT = datetime.timedelta(minutes=15)
SESSION_ABSOLUTE_LIMIT = datetime.timedelta(hours=10)
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_LIMIT.total_seconds())

# Two-factor sign-in (access.views.auth). Wrong codes slow down: each failure doubles the wait
# before the device accepts another try (1, 2, 4... seconds), and also counts towards the lockout.
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
RECOVERY_CODE_COUNT = 10

# Lockout after repeated failures (passwords and codes), counted per username AND address: an
# attacker elsewhere locks out only their own address, never the user at theirs. The lockout
# lifts 15 minutes after the last failed try.
AXES_FAILURE_LIMIT = 5
AXES_VERBOSE = False
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_CALLABLE = "access.views.auth.locked_out"
AXES_RESET_ON_SUCCESS = False  # reset only after the second factor: see access.views.auth
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code", "csrfmiddlewaretoken"]
# Sign-in attempt and log rows older than this are deleted by the daily retention sweep.
AXES_LOG_RETENTION_DAYS = int(os.environ.get("TMO_AXES_LOG_RETENTION_DAYS", 90))
# Behind a reverse proxy set TMO_PROXY_COUNT (how many proxies add X-Forwarded-For) so that the
# client's address, not the proxy's, is counted.
if os.environ.get("TMO_PROXY_COUNT"):
    AXES_IPWARE_PROXY_COUNT = int(os.environ["TMO_PROXY_COUNT"])
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")

# No inline script or style anywhere: GOV.UK Frontend runs from our own static files.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "records@tmo.example")

ORGANISATION_NAME = os.environ.get(
    "TMO_ORGANISATION_NAME", "Riverside Tenant Management Organisation"
)
# The name authenticator apps show beside the account.
OTP_TOTP_ISSUER = ORGANISATION_NAME

# Contact details older than this are due for re-confirmation with the person.
CONTACT_RECONFIRM_DAYS = 365

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "tmo.middleware.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # WeasyPrint logs each step and each page at INFO: seven hundred lines for one heavy bundle.
    "loggers": {"weasyprint.progress": {"level": "WARNING"}},
}
