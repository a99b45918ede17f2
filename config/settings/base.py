"""CareSlot settings, read from the environment (django-environ).

Every name documented in README.md's settings table is read here, under the same name. The
defaults are safe for development on one machine: DEBUG off, PostgreSQL on localhost, tasks
in-process when no Redis is configured.
"""

import ipaddress
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab
from django.utils.dateparse import parse_duration

from core import embedded_db
from core.durations import DURATION_PATTERN, DurationInvalid, duration_list_parse, duration_parse

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def env_duration(name: str, default: timedelta) -> timedelta:
    """A duration setting: hours and minutes ("24h", "1h30m", "0h"), seconds ("3600"),
    "HH:MM:SS", or ISO 8601 ("PT1H")."""
    raw = env.str(name, default="")
    if not raw:
        return default
    if raw.isdigit():
        return timedelta(seconds=int(raw))
    if re.fullmatch(DURATION_PATTERN, raw):
        return duration_parse(raw, allow_zero=True)
    parsed = parse_duration(raw)
    if parsed is None:
        raise environ.ImproperlyConfigured(f"{name}={raw!r} is not a duration")
    return parsed


def env_lead_times(name: str, *, single: str, default: list[timedelta]) -> list[timedelta]:
    """A list of short durations ("48h,2h,30m"), longest first. A deployment that set only the
    older one-value setting `single` keeps that one lead time."""
    raw = env.str(name, default="")
    if not raw:
        return [env_duration(single, default[0])] if env.str(single, default="") else default
    try:
        return duration_list_parse(raw)
    except DurationInvalid as error:
        raise environ.ImproperlyConfigured(f"{name}: {error}") from None


# Core ----------------------------------------------------------------------------------------

DEBUG = env.bool("DEBUG", default=False)
# The development defaults of the secrets are public (they are in this file): production
# settings refuse to start with them, and `check --deploy` reports them (core/checks.py).
DEVELOPMENT_SECRETS = {
    "SECRET_KEY": "careslot-development-secret-key-change-me-in-production",
    "FIELD_ENCRYPTION_KEY": "careslot-development-field-key-change-me-in-production",
}
SECRET_KEY = env.str("SECRET_KEY", default=DEVELOPMENT_SECRETS["SECRET_KEY"])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The client's address (throttles, sign-in lockout, audit log; core.request.client_ip) is the
# connection's, unless reverse proxies stand in front: then it is the entry the outermost of
# TRUSTED_PROXY_COUNT proxies appended to X-Forwarded-For, counted from the right. Entries a
# client wrote itself are never believed.
USE_X_FORWARDED_FOR = env.bool("USE_X_FORWARDED_FOR", default=False)
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
if TRUSTED_PROXY_COUNT < 1:
    raise environ.ImproperlyConfigured("TRUSTED_PROXY_COUNT must be at least 1")

INSTALLED_APPS = [
    "clinic_admin",
    "clinic_admin.apps.CareSlotAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "corsheaders",
    # Before the third-party apps whose templates it overrides (drf_spectacular/redoc.html).
    "core",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "accounts",
    "doctors",
    "patients",
    "scheduling",
    "appointments",
    "audit",
    "notifications",
    "waitlist",
    "calendars",
    "fhir_api",
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "core.request.RequestContextMiddleware",
    "core.api.guards.ApiRequestGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# Database: PostgreSQL only; its row locks and constraints are part of the design. -----------

# DATABASE_URL=embedded: the embedded PostgreSQL of core/embedded_db.py, started if it is not
# running (make run and make test hand their processes its URL instead).
DATABASE_URL = env.str("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/careslot")
if DATABASE_URL == embedded_db.EMBEDDED:
    DATABASE_URL = embedded_db.embedded_url_for_this_process()
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
    "DB_CONNECT_TIMEOUT", default=5
)
# No statement of a request runs longer than DB_STATEMENT_TIMEOUT_MS: past it PostgreSQL
# cancels it and the API answers 503 (set on each connection of the web processes,
# config/wsgi.py). Above BOOKING_LOCK_TIMEOUT_MS, so that a wait for a row lock ends as
# `lock_timeout` first. The reports' reads (for their transaction) and the Celery workers (the
# sweeps, the relay, the slot extension) have DB_LONG_STATEMENT_TIMEOUT_MS, under gunicorn's
# 30 s worker timeout and Celery's task time limits; management commands and migrations have
# none (core.db).
DB_STATEMENT_TIMEOUT_MS = env.int("DB_STATEMENT_TIMEOUT_MS", default=5000)
# DATABASE_POOLER=transaction: DATABASE_URL is a PgBouncer in transaction mode, which hands
# each transaction whichever server connection is free. Nothing may then outlive a
# transaction on a connection: no server-side cursors (a named cursor lives across
# `.iterator()` fetches), no prepared statements (Django's default), and the statement
# timeouts come from the pooler's server connections instead of a `SET` of this process
# (core.db.statement_timeout_default; docs/deployment.md). Locks are transaction-level only
# (core.locks). Checked at start-up (core.checks).
DATABASE_POOLER = env.str("DATABASE_POOLER", default="")
if DATABASE_POOLER not in ("", "transaction"):
    raise environ.ImproperlyConfigured(
        f"DATABASE_POOLER={DATABASE_POOLER!r}: empty (PostgreSQL itself, or a pooler in "
        "session mode) or 'transaction' (PgBouncer in transaction mode)"
    )
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = DATABASE_POOLER == "transaction"
DB_LONG_STATEMENT_TIMEOUT_MS = env.int("DB_LONG_STATEMENT_TIMEOUT_MS", default=20000)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Auth ----------------------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.LockoutModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Five failed sign-ins for one username or one IP within the window lock both out for the
# window, whatever the password (brute-force protection for the token endpoint and admin).
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_WINDOW = env_duration("LOGIN_FAILURE_WINDOW", timedelta(minutes=15))

# Internationalisation and time ---------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
CLINIC_TIME_ZONE = env.str("CLINIC_TIME_ZONE", default="Europe/London")

# Static files (admin, Swagger UI and Redoc assets) served by whitenoise with DEBUG off too ---

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Encryption at rest of protected health information (django-cryptography-5) -----------------

FIELD_ENCRYPTION_KEY = env.str(
    "FIELD_ENCRYPTION_KEY", default=DEVELOPMENT_SECRETS["FIELD_ENCRYPTION_KEY"]
)
CRYPTOGRAPHY_KEY = FIELD_ENCRYPTION_KEY
CRYPTOGRAPHY_SALT = env.str("FIELD_ENCRYPTION_SALT", default="careslot-phi")

# Email ---------------------------------------------------------------------------------------

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CareSlot <no-reply@careslot.local>")

# Scheduling and booking policy (docs/api.md) -------------------------------------------------

SLOT_MINUTES = env.int("SLOT_MINUTES", default=60)
BOOKING_LEAD_TIME = env_duration("BOOKING_LEAD_TIME", timedelta(hours=1))
BOOKING_HORIZON_DAYS = env.int("BOOKING_HORIZON_DAYS", default=90)
# How far ahead availability, time off, holidays and weekly rules may be set.
SCHEDULE_MAX_DAYS_AHEAD = env.int("SCHEDULE_MAX_DAYS_AHEAD", default=730)
BOOKING_LOCK_TIMEOUT_MS = env.int("BOOKING_LOCK_TIMEOUT_MS", default=3000)
NO_SHOW_PENALTY_LIMIT = env.int("NO_SHOW_PENALTY_LIMIT", default=3)
NO_SHOW_GRACE = env_duration("NO_SHOW_GRACE", timedelta(minutes=15))
NO_SHOW_SWEEP_MINUTES = env.int("NO_SHOW_SWEEP_MINUTES", default=10)
# Cancellation policy: a patient's cancel or reschedule later than this before the start is
# late (each doctor may set their own; 0 is off). Late moves are refused (409 inside_cutoff)
# or, with `penalise`, go through and record a late-cancellation penalty.
CANCEL_CUTOFF = env_duration("CANCEL_CUTOFF", timedelta(0))
RESCHEDULE_CUTOFF = env_duration("RESCHEDULE_CUTOFF", timedelta(0))
LATE_CANCELLATION_POLICY = env.str("LATE_CANCELLATION_POLICY", default="refuse")
if LATE_CANCELLATION_POLICY not in {"refuse", "penalise"}:
    raise environ.ImproperlyConfigured(
        f"LATE_CANCELLATION_POLICY={LATE_CANCELLATION_POLICY!r}: use refuse or penalise."
    )
# Reminders go out this long before a confirmed appointment, once per lead time; patients may
# choose a subset (`reminder_lead_times`). `REMINDER_BEFORE`, its one-value predecessor, is
# still read when the list is not set.
REMINDER_LEAD_TIMES = env_lead_times(
    "REMINDER_LEAD_TIMES",
    single="REMINDER_BEFORE",
    default=[timedelta(hours=48), timedelta(hours=2)],
)
IDEMPOTENCY_KEY_TTL = env_duration("IDEMPOTENCY_KEY_TTL", timedelta(hours=24))
# A patient may hold at most this many upcoming pending or confirmed appointments, so that
# no one can hoard a clinic's slots (OWASP API6).
MAX_ACTIVE_APPOINTMENTS_PER_PATIENT = env.int("MAX_ACTIVE_APPOINTMENTS_PER_PATIENT", default=10)
# The most visits one recurring series may book (each is locked and checked in one transaction).
SERIES_MAX_OCCURRENCES = env.int("SERIES_MAX_OCCURRENCES", default=26)
# A freed slot offered to a waitlisted patient is held for them this long.
WAITLIST_HOLD_MINUTES = env.int("WAITLIST_HOLD_MINUTES", default=15)
# A patient may wait on at most this many waitlist entries at once.
WAITLIST_MAX_ENTRIES_PER_PATIENT = env.int("WAITLIST_MAX_ENTRIES_PER_PATIENT", default=5)

# The clinic as integrations describe it (calendar events, the SMART Location) -------------

CLINIC_NAME = env.str("CLINIC_NAME", default="CareSlot clinic")
CLINIC_PHONE = env.str("CLINIC_PHONE", default="")
CLINIC_WEBSITE = env.str("CLINIC_WEBSITE", default="")
CLINIC_ADDRESS_LINES = env.list("CLINIC_ADDRESS_LINES", default=[])
CLINIC_CITY = env.str("CLINIC_CITY", default="")
CLINIC_STATE = env.str("CLINIC_STATE", default="")
CLINIC_POSTAL_CODE = env.str("CLINIC_POSTAL_CODE", default="")
CLINIC_COUNTRY = env.str("CLINIC_COUNTRY", default="")

# Calendar feeds (docs/api.md, "Calendar feeds") ----------------------------------------------

# Appointments that started longer ago than this, and those called off longer ago, leave the
# feed; until then a called-off one is shown as cancelled.
CALENDAR_FEED_RECENT = env_duration("CALENDAR_FEED_RECENT", timedelta(days=30))
# The polling interval suggested to calendar applications.
CALENDAR_FEED_REFRESH = env_duration("CALENDAR_FEED_REFRESH", timedelta(minutes=15))
# The right-hand side of every event's UID (`<appointment id>@<this>`): never change it once
# feeds are subscribed, or every calendar sees every event anew.
CALENDAR_UID_DOMAIN = env.str("CALENDAR_UID_DOMAIN", default="careslot")

# FHIR and SMART Scheduling Links (docs/api.md, "FHIR") ---------------------------------------

# The booking page a SMART Scheduling Links client sends a person to, for one slot: `{slot}`
# is replaced by the slot's id (otherwise `slot=<id>` is added to the query). Empty: the
# slots carry no booking-deep-link.
SMART_BOOKING_URL = env.str("SMART_BOOKING_URL", default="")
# How long clients should wait before polling the publication again (Cache-Control max-age).
SMART_PUBLISH_MAX_AGE = env.int("SMART_PUBLISH_MAX_AGE", default=300)
# Rows read per query while streaming the slot file: memory and each query's time are bounded
# by it, whatever the size of the slot table.
SMART_PUBLISH_PAGE_SIZE = env.int("SMART_PUBLISH_PAGE_SIZE", default=2000)
# A FHIR search answers at most this many entries per page (`_count`).
FHIR_MAX_PAGE_SIZE = env.int("FHIR_MAX_PAGE_SIZE", default=100)

# Redis and background work: unset or empty REDIS_URL runs tasks in-process -----------------

REDIS_URL = env.str("REDIS_URL", default="")
# Redis answers in well under a millisecond. These bound every call to it (the cache, queueing
# a task, the health check), so that a Redis that refuses or never answers costs a request at
# most about this long, and only once in a while: callers then rest from it for 30 s in that
# process (core.cache, notifications.services).
# Without Redis, `make run` starts `manage.py run_background` beside the web server and sets
# RELAY_IN_PROCESS: web processes then wake it after each commit to send the emails, instead of
# sending them inside the request (core/background.py). Without either, tasks run in-process.
RELAY_IN_PROCESS = env.bool("RELAY_IN_PROCESS", default=False) and not REDIS_URL
REDIS_CONNECT_TIMEOUT = env.float("REDIS_CONNECT_TIMEOUT", default=0.5)
REDIS_READ_TIMEOUT = env.float("REDIS_READ_TIMEOUT", default=0.5)

# The cache holds the throttles' counters: Redis when configured, so every web worker counts
# together; while Redis fails, each process counts alone (core.cache).
CACHES = (
    {
        "default": {
            "BACKEND": "core.cache.RedisCacheWithFallback",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
                "socket_timeout": REDIS_READ_TIMEOUT,
            },
        }
    }
    if REDIS_URL
    else {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
)

# Celery (config/celery.py reads every CELERY_* name). Notifications are written to the
# database first (an outbox) and only then queued, so a broker that is down never fails or
# slows a request for long: publishing gives up after the Redis timeouts, the request
# succeeds, and the relay sends what is waiting once the broker is back.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
# No caller waits for a result; storing them would only fill Redis.
CELERY_TASK_IGNORE_RESULT = True
# Deployments sharing one Redis (a staging and a production, say) keep apart by queue name.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# A task is acknowledged when done, so a worker that dies mid-task leaves it to another;
# the tasks are idempotent, so running one twice does the work once.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_CONNECT_TIMEOUT
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_CONNECT_TIMEOUT
CELERY_REDIS_SOCKET_TIMEOUT = REDIS_READ_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
    "socket_timeout": REDIS_READ_TIMEOUT,
    "max_retries": 0,
    # Longer than any task's time limit: an unacknowledged task is redelivered after it.
    "visibility_timeout": 3600,
}
# Beat runs through celery-redbeat: the schedule is kept in Redis, and a beat runs it only
# while it holds a lock there, so that any number of beats (one per host, for availability)
# send each periodic task once. A standby takes over at most BEAT_LOCK_TIMEOUT seconds after
# the holder dies; the holder renews the lock each loop (BEAT_MAX_LOOP_SECONDS).
CELERY_BEAT_SCHEDULER = "redbeat.RedBeatScheduler"
CELERY_REDBEAT_REDIS_URL = REDIS_URL
CELERY_REDBEAT_KEY_PREFIX = env.str("BEAT_KEY_PREFIX", default="careslot:beat:")
CELERY_BEAT_MAX_LOOP_INTERVAL = env.int("BEAT_MAX_LOOP_SECONDS", default=5)
CELERY_REDBEAT_LOCK_TIMEOUT = env.int("BEAT_LOCK_TIMEOUT", default=60)
if CELERY_REDBEAT_LOCK_TIMEOUT <= CELERY_BEAT_MAX_LOOP_INTERVAL:
    raise environ.ImproperlyConfigured(
        "BEAT_LOCK_TIMEOUT must be longer than BEAT_MAX_LOOP_SECONDS (the holder renews the "
        "lock once a loop)"
    )
CELERY_REDBEAT_REDIS_OPTIONS = {
    "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
    "socket_timeout": REDIS_READ_TIMEOUT,
    # A Redis call of beat that fails is tried again for this long before beat gives up.
    "retry_period": 30,
}

# Notification delivery: a failed email is retried after NOTIFICATION_RETRY_BACKOFF, doubling
# each time up to an hour, and given up (status `failed`) after NOTIFICATION_MAX_ATTEMPTS.
# A claim older than NOTIFICATION_CLAIM_TIMEOUT belongs to a worker that died mid-send; the
# relay takes it over (the one case where an email can go out twice).
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=8)
NOTIFICATION_RETRY_BACKOFF = env_duration("NOTIFICATION_RETRY_BACKOFF", timedelta(minutes=1))
NOTIFICATION_CLAIM_TIMEOUT = env_duration("NOTIFICATION_CLAIM_TIMEOUT", timedelta(minutes=10))
NOTIFICATION_RELAY_SECONDS = env.int("NOTIFICATION_RELAY_SECONDS", default=60)
REMINDER_SWEEP_MINUTES = env.int("REMINDER_SWEEP_MINUTES", default=5)

# Webhook delivery (webhooks.delivery): retried like emails (WEBHOOK_RETRY_BACKOFF, doubling up
# to an hour, WEBHOOK_MAX_ATTEMPTS in all). Each call is bounded: WEBHOOK_CONNECT_TIMEOUT and
# WEBHOOK_READ_TIMEOUT (seconds), no redirects, at most WEBHOOK_RESPONSE_MAX_BYTES read back.
# The claim timeout must stay far above one call's length, so that a 2xx is never repeated.
# Private, loopback, link-local and reserved addresses are refused (on the resolved address,
# at send time) unless WEBHOOK_ALLOWED_NETWORKS lists them (comma-separated addresses/CIDRs).
# Where clients reach this API (scheme and host, e.g. https://clinic.example): the prefix of
# the links in webhook events. Empty: links are paths on this server.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="")
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_RETRY_BACKOFF = env_duration("WEBHOOK_RETRY_BACKOFF", timedelta(minutes=1))
WEBHOOK_CLAIM_TIMEOUT = env_duration("WEBHOOK_CLAIM_TIMEOUT", timedelta(minutes=10))
WEBHOOK_RELAY_SECONDS = env.int("WEBHOOK_RELAY_SECONDS", default=60)
WEBHOOK_CONNECT_TIMEOUT = env.float("WEBHOOK_CONNECT_TIMEOUT", default=3.0)
WEBHOOK_READ_TIMEOUT = env.float("WEBHOOK_READ_TIMEOUT", default=10.0)
WEBHOOK_RESPONSE_MAX_BYTES = env.int("WEBHOOK_RESPONSE_MAX_BYTES", default=64 * 1024)
WEBHOOK_ALLOWED_NETWORKS = env.str("WEBHOOK_ALLOWED_NETWORKS", default="")
for _network in filter(None, (item.strip() for item in WEBHOOK_ALLOWED_NETWORKS.split(","))):
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise environ.ImproperlyConfigured(
            f"WEBHOOK_ALLOWED_NETWORKS: {_network!r} is not an address or a network"
        ) from None
if WEBHOOK_CLAIM_TIMEOUT.total_seconds() < 10 * (WEBHOOK_CONNECT_TIMEOUT + WEBHOOK_READ_TIMEOUT):
    raise environ.ImproperlyConfigured(
        "WEBHOOK_CLAIM_TIMEOUT must be at least ten times one call's timeouts"
    )

# What `celery -A config beat` runs, and how often (times of day in UTC).
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "no-show-sweep": {
        "task": "appointments.no_show_sweep",
        "schedule": timedelta(minutes=NO_SHOW_SWEEP_MINUTES),
    },
    "reminders": {
        "task": "appointments.reminders_send",
        "schedule": timedelta(minutes=REMINDER_SWEEP_MINUTES),
    },
    "notification-relay": {
        "task": "notifications.relay",
        "schedule": timedelta(seconds=NOTIFICATION_RELAY_SECONDS),
    },
    "webhook-relay": {
        "task": "webhooks.relay",
        "schedule": timedelta(seconds=WEBHOOK_RELAY_SECONDS),
    },
    "extend-slots": {
        "task": "scheduling.slots_extend",
        "schedule": crontab(hour=2, minute=15),
    },
    "flush-expired-tokens": {
        "task": "accounts.expired_tokens_flush",
        "schedule": crontab(hour=3, minute=30),
    },
    "expire-waitlist-offers": {
        "task": "waitlist.offers_expire",
        "schedule": timedelta(minutes=1),
    },
    "purge-idempotency-records": {
        "task": "appointments.idempotency_records_purge",
        "schedule": crontab(minute=40),
    },
}

# CORS ----------------------------------------------------------------------------------------

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_EXPOSE_HEADERS = ["Retry-After", "X-Request-ID"]

# REST framework ------------------------------------------------------------------------------

# Rate limits (core/api/throttling.py): "N/second|minute|hour|day" per scope; all off with
# RATE_LIMITS_ENABLED=false (load tests, harnesses).
RATE_LIMITS_ENABLED = env.bool("RATE_LIMITS_ENABLED", default=True)
THROTTLE_RATES = {
    "anon": env.str("THROTTLE_RATE_ANON", default="120/minute"),
    "user": env.str("THROTTLE_RATE_USER", default="600/minute"),
    "sign_in": env.str("THROTTLE_RATE_SIGN_IN", default="20/minute"),
    "register": env.str("THROTTLE_RATE_REGISTER", default="10/hour"),
    "booking": env.str("THROTTLE_RATE_BOOKING", default="30/minute"),
}
# Request bodies larger than this are refused with 413 before any parsing. The default admits
# every body the schema admits (the largest, a medical record's 30,300 characters, is under
# 400 KB even with each character JSON-escaped as a surrogate pair), so only a body that no
# endpoint could accept meets the limit.
MAX_REQUEST_BODY_BYTES = env.int("MAX_REQUEST_BODY_BYTES", default=512 * 1024)
# JSON bodies nested deeper than this are a 400 `parse_error` (core/api/parsers.py); no endpoint
# reads more than a few levels.
MAX_JSON_DEPTH = env.int("MAX_JSON_DEPTH", default=32)

REST_FRAMEWORK = {
    # simplejwt loads the user on every request and refuses an inactive one, so a blacklisted
    # (deactivated) doctor's live access token fails on its very next request; ours refuses a
    # token issued before a revocation for good, even once the account is active again.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.JSONParser"],
    # The browsable API only while developing.
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        *(["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "core.api.throttling.AnonThrottle",
        "core.api.throttling.UserThrottle",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "core.openapi.auto_schema.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DATETIME_FORMAT": "iso-8601",
}

DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "core.api.exception_handler.CareSlotExceptionHandler",
    # Documented on every operation where they can happen, each with every code it can carry
    # (core.openapi.auto_schema.AutoSchema); domain errors are declared per operation with
    # `core.openapi.error_envelopes.error_responses` and merged in.
    "ALLOWED_ERROR_STATUS_CODES": [
        "400",
        "401",
        "403",
        "404",
        "405",
        "406",
        "409",
        "411",
        "413",
        "415",
        "422",
        "429",
        "500",
        "503",
    ],
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": env_duration("ACCESS_TOKEN_LIFETIME", timedelta(minutes=10)),
    "REFRESH_TOKEN_LIFETIME": env_duration("REFRESH_TOKEN_LIFETIME", timedelta(days=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    # Access tokens carry a hash of the password and stop working when it changes. Revocation
    # as a whole (a password change among others) is the token generation's job
    # (accounts.api.authentication); this stays as a second lock on the same door.
    "CHECK_REVOKE_TOKEN": True,
    "TOKEN_OBTAIN_SERIALIZER": "accounts.api.serializers.TokenObtainSerializer",
    "TOKEN_REFRESH_SERIALIZER": "accounts.api.serializers.TokenRefreshSerializer",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "CareSlot API",
    "DESCRIPTION": (
        "Appointment scheduling for clinics. Errors use one envelope: "
        '`{"type", "errors": [{"code", "detail", "attr"}]}`. '
        "Identifiers are UUIDs; times are ISO 8601 with an offset."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        **{
            name: f"drf_standardized_errors.openapi_serializers.{name}.choices"
            for name in [
                "ValidationErrorEnum",
                "ClientErrorEnum",
                "ServerErrorEnum",
                "ErrorCode403Enum",
                "ErrorCode404Enum",
                "ErrorCode405Enum",
                "ErrorCode406Enum",
                "ErrorCode415Enum",
                "ErrorCode429Enum",
                "ErrorCode500Enum",
            ]
        },
        **{
            name: f"core.openapi.error_envelopes.{name}.choices"
            for name in [
                "ErrorCode401Enum",
                "ErrorCode411Enum",
                "ErrorCode413Enum",
                "ErrorCode503Enum",
            ]
        },
        "RoleEnum": "accounts.models.Role.choices",
        "AppointmentStatusEnum": "appointments.models.AppointmentStatus.choices",
        "NotificationKindEnum": "notifications.models.NotificationKind.choices",
        "DependencyStateEnum": "core.api.health.DEPENDENCY_STATES",
    },
    "POSTPROCESSING_HOOKS": [
        "core.openapi.hooks.error_codes_named",
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "core.openapi.hooks.client_types",
        "core.openapi.hooks.operation_paths_literal",
    ],
    # Generated clients take the address as an option; this one is `make run`'s.
    "SERVERS": [{"url": "http://127.0.0.1:8000", "description": "A local server (`make run`)"}],
}

# Logging -------------------------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "core.request.RequestContextLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_context"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}
