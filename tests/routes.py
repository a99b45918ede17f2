"""The API's routes as the URLconf declares them."""

from collections.abc import Iterator
from typing import Any

from django.urls import URLResolver, get_resolver

API_PREFIX = "api/v1/"


def api_routes() -> Iterator[tuple[str, Any]]:
    """Every route of the API, without its `api/v1/` prefix, with its view."""

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern.callback

    for route, callback in walk(get_resolver().url_patterns):
        if route.startswith(API_PREFIX):
            yield route.removeprefix(API_PREFIX), callback
