"""Production: everything secret comes from the environment, HTTPS throughout, JSON logs.

`DJANGO_SETTINGS_MODULE=config.settings.production python manage.py check --deploy
--fail-level WARNING` passes with the variables of README.md's production section set.
"""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import DEVELOPMENT_SECRETS, LOGGING, env
from core.checks import public_secrets

DEBUG = False

# No development defaults: a missing secret, or one left at its public development value,
# stops every process (web, worker, beat, manage.py) at start-up. `check --deploy` reports the
# same for any other settings module (core/checks.py).
SECRET_KEY = env.str("SECRET_KEY")
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY")
CRYPTOGRAPHY_KEY = FIELD_ENCRYPTION_KEY
SIMPLE_JWT = {**SIMPLE_JWT, "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY)}  # noqa: F405
_public = public_secrets(
    {
        "SECRET_KEY": SECRET_KEY,
        "FIELD_ENCRYPTION_KEY": FIELD_ENCRYPTION_KEY,
        "JWT_SIGNING_KEY": SIMPLE_JWT["SIGNING_KEY"],
    },
    DEVELOPMENT_SECRETS,
)
if _public:
    raise ImproperlyConfigured(
        f"{', '.join(_public)}: the public development default; set a secret one in the "
        "environment."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# HTTPS: behind a TLS-terminating proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Health checks from the load balancer come over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health/$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Joining the browsers' HSTS preload list binds every subdomain of the clinic's domain to
# HTTPS for months and cannot be undone quickly: that is the domain owner's decision, so it
# is off by default (SECURE_HSTS_PRELOAD=true turns it on) and its reminder is silenced.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    **LOGGING,
    "formatters": {"json": {"()": "core.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_context"],
        }
    },
}
