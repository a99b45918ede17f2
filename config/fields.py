"""Serializer fields shared by every app's API."""

from django.utils import timezone
from rest_framework import serializers


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 datetime that must carry its offset: a naive one is a 400 (API.md)."""

    default_error_messages = {
        "naive": "Give the time with its UTC offset, e.g. 2026-12-01T09:00:00Z.",
    }

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)


class StrictUUIDField(serializers.UUIDField):
    """A UUID given as a string; DRF's own field also turns integers into UUIDs."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)
