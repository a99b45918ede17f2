"""The default cache when `REDIS_URL` is set: Redis, shared by every web process, that never
takes a request down with it.

What the cache holds (the throttles' counters) may be forgotten, so a Redis that refuses
connections, stays silent past `REDIS_READ_TIMEOUT` or answers with an error is treated as an
empty cache local to this process: each call falls back to a local-memory cache instead of
raising. The throttles then go on counting, per process, rather than answering 500 or failing
open: a client gets at most the rate times the number of web processes, and the sign-in and
registration limits still bind. After a failure Redis is left alone for
`REDIS_RETRY_AFTER_SECONDS` (one warning per rest), so that a silent Redis costs one call
its timeout, not every call; then the next call tries Redis again, and uses it if it answers.
"""

import logging
from collections.abc import Iterable
from typing import Any

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from core.breaker import CircuitBreaker

logger = logging.getLogger(__name__)

REDIS_RETRY_AFTER_SECONDS = 30.0

# One per Redis location, shared by the threads of a process (Django makes a cache object per
# thread): the process rests from a failing Redis as one.
_breakers: dict[str, CircuitBreaker] = {}


class RedisCacheWithFallback(RedisCache):
    """Django's Redis cache, answered from this process's memory while Redis fails (see the
    module's docstring). `OPTIONS` are Django's: set `socket_connect_timeout` and
    `socket_timeout`, or a silent Redis holds each call for as long as the OS lets it."""

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        location = server if isinstance(server, str) else ",".join(server)
        self.breaker = _breakers.setdefault(location, CircuitBreaker(REDIS_RETRY_AFTER_SECONDS))
        self._fallback = LocMemCache(f"redis-fallback:{location}", params)

    def reachable(self) -> bool:
        """Whether Redis answers a PING now (within the timeouts), whatever the breaker says."""
        try:
            # django-stubs leaves out RedisCache's client (`_cache`), Django's own private part.
            client = self._cache.get_client(write=True)  # type: ignore[attr-defined]
            return bool(client.ping())
        except redis.RedisError:
            return False

    def _call(self, method: str, *args: Any) -> Any:
        if self.breaker.may_try():
            try:
                return getattr(super(), method)(*args)
            except redis.RedisError as error:
                self.breaker.trip()
                logger.warning(
                    "The Redis cache failed (%s: %s); this process uses a local cache for %d s.",
                    type(error).__name__,
                    error,
                    self.breaker.rest_seconds,
                )
        return getattr(self._fallback, method)(*args)

    def add(
        self,
        key: Any,
        value: Any,
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> Any:
        return self._call("add", key, value, timeout, version)

    def get(self, key: Any, default: Any | None = None, version: int | None = None) -> Any:
        return self._call("get", key, default, version)

    def set(
        self,
        key: Any,
        value: Any,
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> Any:
        return self._call("set", key, value, timeout, version)

    def touch(
        self, key: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> Any:
        return self._call("touch", key, timeout, version)

    def delete(self, key: Any, version: int | None = None) -> Any:
        return self._call("delete", key, version)

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> Any:
        return self._call("get_many", keys, version)

    def has_key(self, key: Any, version: int | None = None) -> Any:
        return self._call("has_key", key, version)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        return self._call("incr", key, delta, version)

    def set_many(
        self,
        data: dict[Any, Any],
        timeout: float | None = DEFAULT_TIMEOUT,
        version: int | None = None,
    ) -> Any:
        return self._call("set_many", data, timeout, version)

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> Any:
        return self._call("delete_many", keys, version)

    def clear(self) -> Any:
        return self._call("clear")
