"""Settings for the test suite: the real PostgreSQL and, where a test asks, the real Redis."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Background work runs in-process unless a test starts a worker against REDIS_URL itself.
REDIS_URL = ""
TEST_REDIS_URL = env.str("TEST_REDIS_URL", default="redis://127.0.0.1:6379/15")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Rate limits stay on, but far above what the suite sends; their own tests tighten them.
THROTTLE_RATES = {scope: "100000/minute" for scope in THROTTLE_RATES}  # noqa: F405
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The tests' webhook receivers listen on this machine.
WEBHOOK_ALLOWED_NETWORKS = "127.0.0.1,::1"
