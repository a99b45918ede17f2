"""`GET /api/v1/health/`: is the database reachable, and Redis as the broker and as the cache
(when `REDIS_URL` configures them)? Each Redis probe is bounded by `REDIS_CONNECT_TIMEOUT` and
`REDIS_READ_TIMEOUT`, so a Redis that never answers makes this answer slower by about that,
never a 500 or a hang."""

import redis
from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.cache import RedisCacheWithFallback

# What the health check says of a dependency the API can work without (one enum in the schema,
# `SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]`).
DEPENDENCY_STATES = ("ok", "down", "disabled")

_HealthSerializer = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=["ok", "degraded", "unavailable"]),
        "database": serializers.ChoiceField(choices=["ok", "down"]),
        "broker": serializers.ChoiceField(choices=DEPENDENCY_STATES),
        "cache": serializers.ChoiceField(
            choices=DEPENDENCY_STATES,
            help_text="The shared (Redis) cache of the rate limits. `down`: each web process "
            "counts alone until it is back; `disabled`: no `REDIS_URL`, each process counts "
            "alone.",
        ),
    },
)


def _database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return "down"
    return "ok"


def _broker_state() -> str:
    if not settings.REDIS_URL:
        return "disabled"
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT,
        socket_timeout=settings.REDIS_READ_TIMEOUT,
    )
    try:
        client.ping()
    except redis.RedisError:
        return "down"
    finally:
        client.close()
    return "ok"


def _cache_state() -> str:
    shared = caches["default"]
    if not isinstance(shared, RedisCacheWithFallback):
        return "disabled"
    return "ok" if shared.reachable() else "down"


class HealthView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        tags=["health"],
        summary="Service health",
        description="200 while the database answers (`status` is `degraded` when the broker or "
        "the cache is down: the API still works, notifications wait and each web process counts "
        "rate limits alone); 503 when the database is unreachable.",
        responses={200: _HealthSerializer, 503: _HealthSerializer},
    )
    def get(self, request):
        database, broker, shared_cache = _database_state(), _broker_state(), _cache_state()
        code: int
        if database != "ok":
            body, code = {"status": "unavailable"}, status.HTTP_503_SERVICE_UNAVAILABLE
        else:
            degraded = "down" in (broker, shared_cache)
            body, code = {"status": "degraded" if degraded else "ok"}, status.HTTP_200_OK
        return Response(
            {**body, "database": database, "broker": broker, "cache": shared_cache}, status=code
        )
