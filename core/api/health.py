"""`GET /api/v1/health/`: is the database reachable, and the broker (when one is configured)?"""

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

_HealthSerializer = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=["ok", "degraded", "unavailable"]),
        "database": serializers.ChoiceField(choices=["ok", "down"]),
        "broker": serializers.ChoiceField(choices=["ok", "down", "disabled"]),
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
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        client.ping()
    except redis.RedisError:
        return "down"
    return "ok"


class HealthView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        tags=["health"],
        summary="Service health",
        description="200 while the database answers (`status` is `degraded` when the broker is "
        "down: the API still works and notifications wait); 503 when the database is unreachable.",
        responses={200: _HealthSerializer, 503: _HealthSerializer},
    )
    def get(self, request):
        database, broker = _database_state(), _broker_state()
        if database != "ok":
            body, code = {"status": "unavailable"}, status.HTTP_503_SERVICE_UNAVAILABLE
        else:
            body = {"status": "ok" if broker != "down" else "degraded"}
            code = status.HTTP_200_OK
        return Response({**body, "database": database, "broker": broker}, status=code)
