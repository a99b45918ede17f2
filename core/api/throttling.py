"""DRF throttles whose rates are settings (`THROTTLE_RATES`, from the environment) read at
request time, all switched off by `RATE_LIMITS_ENABLED=false` for load tests and harnesses.

Per user when signed in, per client address otherwise (`core.request.client_ip`, as for the
sign-in lockout and the audit log); sign-in, registration and booking have tighter scopes of
their own. Counters live in the default cache: Redis when `REDIS_URL` is set, so every web
worker counts together; while Redis fails, each process counts alone (`core.cache`), so the
limits still bind and no request fails for it.
"""

from django.conf import settings
from rest_framework import throttling

from core.request import client_ip


class _Configured(throttling.SimpleRateThrottle):
    def get_rate(self) -> str | None:
        return settings.THROTTLE_RATES.get(self.scope or "")

    def allow_request(self, request, view):
        if not settings.RATE_LIMITS_ENABLED:
            return True
        return super().allow_request(request, view)

    def get_ident(self, request):
        # DRF's own reads X-Forwarded-For as the client sent it, so that a client rotating
        # the header would count as ever new clients.
        return client_ip(request)


class UserThrottle(_Configured, throttling.UserRateThrottle):
    scope = "user"


class AnonThrottle(_Configured, throttling.AnonRateThrottle):
    scope = "anon"


class ScopedThrottle(_Configured, throttling.ScopedRateThrottle):
    """The view's `throttle_scope` (sign_in, register, booking), per user or address."""
