"""Serializer fields and bounds shared by every app's API."""

import re
from datetime import date, timedelta

from django.contrib.auth.password_validation import (
    MinimumLengthValidator,
    NumericPasswordValidator,
    get_default_password_validators,
)
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.clinic_time import time_zone_validate
from core.durations import DURATION_PATTERN, DurationInvalid, duration_format, duration_parse
from core.validators import FreeTextCharactersValidator, NameCharactersValidator

# Dates outside these years are typos or probes; refusing them keeps every date arithmetic
# (clinic-day bounds, time zone conversion) far from the calendar's ends.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
DATE_RANGE_VALIDATORS = [MinValueValidator(EARLIEST_DATE), MaxValueValidator(LATEST_DATE)]

# Exactly what the schema's `date` and `date-time` formats admit (RFC 3339), which Django's
# parsers would widen: they also read `2000-1-1`, `20000101`, week dates, `+0000` offsets and a
# space for the `T`, and refuse a lowercase `t` or `z`.
RFC3339_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_LOCAL_DATETIME = rf"{RFC3339_DATE}[Tt][0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}(\.[0-9]+)?"
RFC3339_DATETIME = rf"{_LOCAL_DATETIME}([Zz]|[+-][0-9]{{2}}:[0-9]{{2}})"

# JSON Schema bounds numbers, not dates: the schema states the years above with a pattern on
# the text (19xx to 21xx), next to the format that makes it a date; for a time it also says
# there is no leap second (RFC 3339 has one, Python has not).
YEAR_RANGE_PATTERN = r"^(19|20|21)[0-9]{2}-"
BOUNDED_DATE_SCHEMA = {"type": "string", "format": "date", "pattern": YEAR_RANGE_PATTERN}
BOUNDED_DATETIME_SCHEMA = {
    "type": "string",
    "format": "date-time",
    "pattern": rf"{YEAR_RANGE_PATTERN}[0-9]{{2}}-[0-9]{{2}}[Tt][0-9]{{2}}:[0-9]{{2}}:[0-5][0-9]",
}


@extend_schema_field(BOUNDED_DATE_SCHEMA)
class BoundedDateField(serializers.DateField):
    """A `YYYY-MM-DD` date between 1900 and 2199."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validators", [])
        kwargs["validators"] = [*kwargs["validators"], *DATE_RANGE_VALIDATORS]
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        if isinstance(value, str) and not re.fullmatch(RFC3339_DATE, value):
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


@extend_schema_field(BOUNDED_DATETIME_SCHEMA)
class AwareDateTimeField(serializers.DateTimeField):
    """An RFC 3339 datetime, which carries its offset: a naive one is a 400 (docs/api.md,
    "Times, dates and the clinic's day"). Years outside 1900-2199 are refused too."""

    default_error_messages = {
        "naive": "Give the time with its UTC offset, e.g. 2026-12-01T09:00:00Z.",
        "out_of_range": "Give a time between 1900 and 2199.",
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            if re.fullmatch(_LOCAL_DATETIME, value):
                self.fail("naive")
            if not re.fullmatch(RFC3339_DATETIME, value):
                self.fail("invalid", format="YYYY-MM-DDThh:mm:ss[.ffffff](Z|±hh:mm)")
            value = value.upper()  # RFC 3339 allows `t` and `z`, Python's parser does not
        return super().to_internal_value(value)

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


def _password_rules() -> tuple[int, bool]:
    """What JSON Schema can say of Django's password validators (AUTH_PASSWORD_VALIDATORS): the
    minimum length, and whether a password may be all digits. That it is not a common password
    nor like the user's name or email it can only describe."""
    min_length, digits_only = 1, True
    for validator in get_default_password_validators():
        if isinstance(validator, MinimumLengthValidator):
            min_length = validator.min_length
        if isinstance(validator, NumericPasswordValidator):
            digits_only = False
    return min_length, digits_only


NEW_PASSWORD_MAX_LENGTH = 128
_PASSWORD_MIN_LENGTH, _DIGITS_ONLY = _password_rules()


@extend_schema_field(
    {"type": "string", "format": "password"} | ({} if _DIGITS_ONLY else {"pattern": r"\D"})
)
class NewPasswordField(serializers.CharField):
    """A password being set, kept exactly as typed. Django's password validators judge it in the
    service, where the user it is for is known (a 400 on the field); its length is checked
    here too, so that the schema states it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("write_only", True)
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("min_length", _PASSWORD_MIN_LENGTH)
        kwargs.setdefault("max_length", NEW_PASSWORD_MAX_LENGTH)
        kwargs.setdefault(
            "help_text",
            "Not a common password, not all digits, not like the username, name or email.",
        )
        super().__init__(**kwargs)


LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


@extend_schema_field({"type": "string", "pattern": LOCAL_TIME_PATTERN, "example": "09:00"})
class LocalTimeField(serializers.TimeField):
    """A wall-clock time of the clinic's day, `HH:MM` or `HH:MM:SS[.ffffff]`, without an
    offset: Django would drop one without a word (`09:00+05:00` read as 09:00), so one is
    refused, as OpenAPI's `time` format (which requires an offset) is not used for it."""

    default_error_messages = {
        "local": "Give a clinic-local time without an offset, e.g. 09:00 or 09:00:00."
    }

    def to_internal_value(self, value):
        if isinstance(value, str) and not re.fullmatch(LOCAL_TIME_PATTERN, value):
            self.fail("local")
        return super().to_internal_value(value)


class NameField(serializers.CharField):
    """A name that others read (a person's, a specialization's): no control, invisible or
    reordering character, nor a tab or line break (`core.validators`; the models' fields carry
    the same validator). The schema states the refused characters as the field's
    `not: {pattern}`, read off the validator (core.openapi.strict_input)."""

    def __init__(self, **kwargs):
        kwargs["validators"] = [*kwargs.get("validators", ()), NameCharactersValidator()]
        super().__init__(**kwargs)


class FreeTextField(serializers.CharField):
    """Free text that others read (a biography): tabs and line breaks as written, but no
    control, invisible or reordering character; the schema states them as for `NameField`."""

    def __init__(self, **kwargs):
        kwargs["validators"] = [*kwargs.get("validators", ()), FreeTextCharactersValidator()]
        super().__init__(**kwargs)


@extend_schema_field(
    {
        "type": "string",
        "maxLength": 64,
        "pattern": r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$",
        "example": "America/New_York",
        "description": "An IANA time zone name of the tz database.",
    }
)
class TimeZoneField(serializers.CharField):
    """An IANA time zone name (`Europe/London`); the zone a person reads times in. Listed as a
    string, not an enum of the ~600 names, which change with the tz database."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        kwargs["validators"] = [*kwargs.get("validators", ()), time_zone_validate]
        super().__init__(**kwargs)


@extend_schema_field({"type": "string", "pattern": DURATION_PATTERN, "example": "2h"})
class ShortDurationField(serializers.Field):
    """A duration in hours and minutes as people write it (`48h`, `2h`, `30m`, `1h30m`;
    `core.durations`), read and written in that form."""

    default_error_messages = {"invalid": "{message}"}

    def __init__(self, *, allow_zero: bool = False, **kwargs):
        self.allow_zero = allow_zero
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", message="Write a duration as text, such as 48h, 2h or 30m.")
        try:
            return duration_parse(data, allow_zero=self.allow_zero)
        except DurationInvalid as error:
            self.fail("invalid", message=str(error))

    def to_representation(self, value: timedelta) -> str:
        return duration_format(value)
