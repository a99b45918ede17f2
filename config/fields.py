"""Serializer fields and bounds shared by every app's API."""

from datetime import date

from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from rest_framework import serializers

# Dates outside these years are typos or probes; refusing them keeps every date arithmetic
# (clinic-day bounds, time zone conversion) far from the calendar's ends.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
DATE_RANGE_VALIDATORS = [MinValueValidator(EARLIEST_DATE), MaxValueValidator(LATEST_DATE)]


class BoundedDateField(serializers.DateField):
    """A `YYYY-MM-DD` date between 1900 and 2199."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validators", [])
        kwargs["validators"] = [*kwargs["validators"], *DATE_RANGE_VALIDATORS]
        super().__init__(**kwargs)


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 datetime that must carry its offset: a naive one is a 400 (API.md).
    Years outside 1900-2199 are refused too."""

    default_error_messages = {
        "naive": "Give the time with its UTC offset, e.g. 2026-12-01T09:00:00Z.",
        "out_of_range": "Give a time between 1900 and 2199.",
    }

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        if not EARLIEST_DATE.year <= value.year <= LATEST_DATE.year:
            self.fail("out_of_range")
        return super().enforce_timezone(value)


class StrictUUIDField(serializers.UUIDField):
    """A UUID given as a string; DRF's own field also turns integers into UUIDs."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)
