"""Values as the API writes them, for serializers that build their rows by hand.

The serializers of the busiest lists (free slots, appointments) write each row as one dict
instead of going through a field object per column: DRF builds those fields on every request
and dispatches every value through them, which cost as much as reading the page
(bench/README.md). Their declared fields still make the schema; `tests/test_representation.py`
checks that both give the same JSON. These helpers give each value as DRF's field would
render it.
"""

from rest_framework import serializers

_DATETIME = serializers.DateTimeField(read_only=True)


def datetime_text(value) -> str | None:
    """RFC 3339 in the current time zone (UTC), `Z` for UTC: DRF's `DateTimeField` output."""
    return _DATETIME.to_representation(value)


def id_text(value) -> str | None:
    """A UUID (or any key) as text, `None` kept."""
    return None if value is None else str(value)
