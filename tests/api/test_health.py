"""`GET /health/`: the database, the broker and the cache, 503 only when the database is
unreachable."""

import pytest
from django.db import OperationalError
from rest_framework.test import APIClient

from tests.background import redis_cache, refusing_broker_url

pytestmark = pytest.mark.django_db

HEALTH_URL = "/api/v1/health/"


def test_health_without_redis(anon_client):
    response = anon_client.get(HEALTH_URL)
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "disabled",
        "cache": "disabled",
    }


def test_health_is_degraded_but_up_when_redis_is_down(anon_client, settings):
    settings.REDIS_URL = refusing_broker_url()
    settings.CACHES = redis_cache(settings.REDIS_URL)
    response = anon_client.get(HEALTH_URL)
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "broker": "down",
        "cache": "down",
    }


def test_health_with_a_live_redis(anon_client, settings, live_redis_url):
    settings.REDIS_URL = live_redis_url
    settings.CACHES = redis_cache(settings.REDIS_URL)
    response = anon_client.get(HEALTH_URL)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok", "cache": "ok"}


def test_health_is_503_when_the_database_is_unreachable(anon_client, monkeypatch):
    class Unreachable:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr("core.api.health.connection", Unreachable())
    response = anon_client.get(HEALTH_URL)
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "down",
        "broker": "disabled",
        "cache": "disabled",
    }


def test_health_ignores_a_bad_token(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer expired.or.garbage")
    assert client.get(HEALTH_URL).status_code == 200
