"""How the API reads request bodies."""

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError


def json_deeper_than(data, limit: int) -> bool:
    """Whether arrays and objects in `data` nest more than `limit` levels (a scalar is 0, `{}`
    is 1), found without recursion."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            pending.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing a body nested deeper than `MAX_JSON_DEPTH` with a 400
    `parse_error`.

    Python's decoder recurses once per level of nesting and raises `RecursionError` (not the
    `ValueError` DRF turns into a 400) near a thousand levels, which a 20 KB body reaches: a
    500 on every JSON endpoint, sign-in included. Where that happens depends on how deep the
    stack already is, so the limit is a setting instead, far above what any request needs
    (no endpoint reads more than a few levels) and far below the decoder's: every body
    nested past it is refused the same way, before any view sees it.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.MAX_JSON_DEPTH
        too_deep = ParseError(f"JSON parse error - nested more than {limit} levels deep.")
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep from None
        if json_deeper_than(data, limit):
            raise too_deep
        return data
