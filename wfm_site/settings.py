"""Switchboard settings, read from the environment with django-environ.

Every variable is listed in the README. With no environment at all (`make run`) the site
runs on embedded defaults: SQLite, Kombu's filesystem broker and email written to files,
all under `var/`. Production sets DATABASE_URL, CELERY_BROKER_URL, EMAIL_URL, SECRET_KEY
and FIELD_ENCRYPTION_KEYS.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()


def env_int(name: str, default: int) -> int:
    """An integer from the environment; a malformed one falls back here and is refused by the
    system checks (wfm_site/checks.py), which name it instead of a traceback at import."""
    try:
        return env.int(name, default=default)
    except ValueError:
        return default


VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)

# A fixed key is acceptable only on a developer's machine: never start without one
# otherwise, since it signs sessions and verification links.
SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

# Comma-separated Fernet keys: the first encrypts, all decrypt (rotation).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set when DEBUG is off")
    # Development only: credentials typed into a demo are not worth protecting.
    FIELD_ENCRYPTION_KEYS = ["ZGV2ZWxvcG1lbnQtb25seS1rZXktbm90LWZvci11c2U="]

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Absolute base of links in emails (verification, renewal, unsubscribe).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "integrations",
    # Events out (webhooks, Slack, Teams); collectors and tokens publish into it.
    "notifications",
    "tokens",
    "collectors",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
    # Commands that span the apps (connections import/export, setup_demo).
    "wfm_site",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files from the web process itself (compressed, hashed names, cached forever).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "wfm_site.urls"
WSGI_APPLICATION = "wfm_site.wsgi.application"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'switchboard.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite cannot create the folder of its file: make `var/` on a fresh clone.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets the web process read while the worker writes; IMMEDIATE transactions take
    # the write lock up front, so read-then-write transactions wait on the busy timeout
    # instead of failing with "database is locked" (19% of web requests did, in a stress run).
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env_int("DB_CONN_MAX_AGE", 60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Times in the admin read "2026-11-30 10:15 CST (America/Chicago)" (wfm_site/formats/en).
FORMAT_MODULE_PATH = ["wfm_site.formats"]

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "static")))
# `collectstatic` writes each file under a content-hashed name with .gz beside it; WhiteNoise
# serves them with far-future caching. With DEBUG on, files are served unhashed from the apps.
if DEBUG:  # whitenoise warns on every start when the folder is missing (`make run`)
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Email ----------------------------------------------------------------------------
EMAIL_URL = env("EMAIL_URL", default=f"filemail://{VAR_DIR / 'mail'}")
try:
    vars().update(env.email_url_config(EMAIL_URL))
except ImproperlyConfigured:
    # An unknown scheme: the system checks refuse it by name (wfm_site/checks.py) before any
    # process starts, instead of a traceback here.
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
if EMAIL_URL.startswith("filemail://"):
    # django-environ drops the leading "/" of an absolute path; take the path as written.
    EMAIL_FILE_PATH = EMAIL_URL.removeprefix("filemail://")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Switchboard <switchboard@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security (production) ------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Outbound requests (integrations/egress.py, docs/security.md) -----------------------
# Comma-separated CIDRs that vendor requests may reach although they are not public
# addresses (a vendor behind a private link, the sandbox on a test host). Loopback is
# allowed on top when DEBUG is on, for the bundled sandbox of `make run`.
# Each entry is checked by the system checks (wfm_site/checks.py) at every process start.
VENDOR_EGRESS_ALLOW = env.list("VENDOR_EGRESS_ALLOW", default=[])

# --- Celery ---------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith("redis"):
    # A task not acknowledged within this many seconds is redelivered (acks_late):
    # longer than the longest hard time limit, so a slow run is never run twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
    # Several installations (or test runs) may share one Redis database under distinct prefixes.
    if env("CELERY_BROKER_KEY_PREFIX", default=""):
        CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = env("CELERY_BROKER_KEY_PREFIX")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Celery's Django fixup closes every database connection before and after each task unless
# CELERY_DB_REUSE_MAX is set: a new PostgreSQL connection (a server process forked) for every
# 10-second poll, a tenth of a poll's CPU in the worker and more in the server (bench/ANALYSIS.md,
# section 6c). Set out of reach here, so connections follow CONN_MAX_AGE and CONN_HEALTH_CHECKS
# instead: wfm_site/celery.py closes the old or broken ones around each task, as Django does
# around each request (DB_CONN_MAX_AGE=0 still closes after every task, for PgBouncer).
CELERY_DB_REUSE_MAX = 10**12
# CELERY_TASK_EVENTS=true: workers send task events (received, started, succeeded, failed)
# for Flower and `celery events`. Off by default: each event is a synchronous Redis publish
# from the worker's main process, which at 100 polls a second spent 40% of its time on them
# (bench/ANALYSIS.md, section 6c). Never the "task-sent" event: one more publish per
# dispatched run, and it defeats the dispatcher's one-pipeline batches.
CELERY_WORKER_SEND_TASK_EVENTS = env.bool("CELERY_TASK_EVENTS", default=False)

# --- Logging and errors ---------------------------------------------------------------
# LOG_FORMAT=json writes one JSON object per line (for a log shipper); `plain` by default.
LOG_FORMAT = env("LOG_FORMAT", default="plain")
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
        }
    },
    # An unknown level would crash every process before the system check could name it.
    "root": {
        "handlers": ["console"],
        "level": LOG_LEVEL.upper() if LOG_LEVEL.upper() in LOG_LEVELS else "INFO",
    },
    "loggers": {
        "pyftpdlib": {"level": "WARNING"},
        # Celery's "Task … received" and "Task … succeeded" lines, two per task: a run's
        # outcome is its run row (and its own log line, but for a successful poll), and at 100
        # polls a second the two cost a tenth of a poll's worker CPU (bench/ANALYSIS.md 10).
        # Failures still log (Celery's at ERROR, a run's and its retry at WARNING from
        # collectors.runs); LOG_LEVEL=DEBUG shows the lines again.
        **{
            name: {"level": "DEBUG" if LOG_LEVEL.upper() == "DEBUG" else "WARNING"}
            for name in ("celery.app.trace", "celery.worker.strategy")
        },
    },
}

# Optional error reporting: nothing is sent unless SENTRY_DSN is set (wfm_site/observability.py).
SENTRY_DSN = env("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", default="production")
SENTRY_TRACES_SAMPLE_RATE = env("SENTRY_TRACES_SAMPLE_RATE", default="0")

# The read API (/api/v1/, docs/api.md). Every view sets its own authentication (API keys),
# permission (scopes) and throttle (API_THROTTLE_RATE per key); these are the defaults of
# anything else DRF serves (the schema and its reference page).
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Switchboard read API",
    "DESCRIPTION": "Contact-center data and health of one tenant, with incremental sync. See docs/api.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # The reference page's scripts ship with drf-spectacular-sidecar: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two models call a field `status` with different choices: name both enums.
    "ENUM_NAME_OVERRIDES": {
        "HealthStatusEnum": "collectors.models.HEALTH_STATUSES",
        "RunStatusEnum": "collectors.models.CollectionRun.STATUSES",
    },
}
