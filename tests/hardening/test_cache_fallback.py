"""The Redis cache (core.cache) while Redis fails: the throttles keep counting in this process,
one warning per rest, and Redis is used again once the rest is over and it answers.

In-process, against a real Redis (`TEST_REDIS_URL`), a port where nothing listens, and a
socket that accepts connections and never answers. The requests of a whole served app are in
`test_redis_down.py`.
"""

import logging

import pytest
import redis
from django.core.cache import caches

from tests.background import hung_broker_url, redis_cache, refusing_broker_url

pytestmark = pytest.mark.django_db

URL = "/api/v1/doctors/"


@pytest.fixture
def anon_rate(settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "anon": "3/minute"}


def cache_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "core.cache"]


def test_while_redis_refuses_the_throttles_count_in_process_with_one_warning(
    settings, anon_rate, anon_client, caplog
):
    settings.CACHES = redis_cache(refusing_broker_url())
    caplog.set_level(logging.WARNING, logger="core.cache")

    statuses = [anon_client.get(URL).status_code for _ in range(5)]

    assert statuses == [200, 200, 200, 429, 429]
    [warning] = cache_warnings(caplog)
    assert "ConnectionError" in warning


def test_a_silent_redis_is_waited_for_once_per_rest(settings, anon_rate, anon_client, caplog):
    caplog.set_level(logging.WARNING, logger="core.cache")
    with hung_broker_url() as url:
        settings.CACHES = redis_cache(url)
        statuses = [anon_client.get(URL).status_code for _ in range(5)]
        resting = not caches["default"].breaker.may_try()

    assert statuses == [200, 200, 200, 429, 429]
    [warning] = cache_warnings(caplog)
    assert "TimeoutError" in warning
    assert resting


@pytest.fixture
def live_redis_cache(settings, live_redis_url):
    settings.CACHES = redis_cache(live_redis_url)
    shared = caches["default"]
    shared.clear()
    yield shared
    shared.breaker.reset()
    shared.clear()


def test_after_the_rest_redis_counts_again(
    live_redis_cache, live_redis_url, anon_rate, anon_client
):
    direct = redis.Redis.from_url(live_redis_url)
    live_redis_cache.breaker.trip()  # as after a failure: this process counts alone
    assert [anon_client.get(URL).status_code for _ in range(2)] == [200, 200]
    assert direct.keys("*throttle_anon_*") == []

    live_redis_cache.breaker.reset()  # the rest is over, and Redis answers
    assert [anon_client.get(URL).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert len(direct.keys("*throttle_anon_*")) == 1
    assert live_redis_cache.reachable()


def test_reachable_tells_the_truth_whatever_the_breaker(live_redis_cache, settings):
    live_redis_cache.breaker.trip()
    assert live_redis_cache.reachable()
    settings.CACHES = redis_cache(refusing_broker_url())
    assert not caches["default"].reachable()
