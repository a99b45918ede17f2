"""FHIR search parameters as CareSlot reads them (FHIR R4, "Search").

Unknown parameters are ignored, as FHIR's lenient default has it, and so are empty ones
(`?start=`, `?_count=`); the Bundle's `self` link
shows the ones that were applied. A known parameter with a value it cannot read is a 400
OperationOutcome naming it.
"""

import re
import uuid
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import ErrorDetail, ValidationError

from core.api.fields import EARLIEST_DATE, LATEST_DATE, RFC3339_DATE, RFC3339_DATETIME
from core.clinic_time import day_start

# Deep offsets make the database walk every row before the page; a client wanting more
# narrows its search (by `start` or `date`) instead.
MAX_OFFSET = 10_000
_PREFIXED = re.compile(r"(eq|gt|ge|lt|le)?(.+)")

# What the schema states of the values read here, so that a value it admits is one the server
# takes. A date's pattern admits the days every year has (29 February left out), 1900 to 2199.
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_DAY = (
    r"(19|20|21)[0-9]{2}-((0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|(0[13-9]|1[0-2])-(29|30)"
    r"|(0[13578]|1[02])-31)"
)
_CLOCK = (
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])"
)
DATE_PATTERN = f"^(eq|gt|ge|lt|le)?{_DAY}({_CLOCK})?$"


def reference_pattern(resource_type: str) -> str:
    return f"^({resource_type}/)?{_UUID}$"


def token_pattern(allowed) -> str:
    token = "(" + "|".join(sorted(allowed, key=lambda value: (-len(value), value))) + ")"
    return f"^{token}(,{token})*$"


def invalid(parameter: str, message: str) -> ValidationError:
    return ValidationError({parameter: [ErrorDetail(message, code="invalid")]})


def _whole_number(raw: str, parameter: str, *, low: int, high: int) -> int:
    if not re.fullmatch(r"[0-9]{1,9}", raw) or not low <= int(raw) <= high:
        raise invalid(parameter, f"Give a whole number from {low} to {high}.")
    return int(raw)


def page_window(params) -> tuple[int, int]:
    """(`_offset`, `_count`): where the page starts and how long it is."""
    count = params.get("_count", "")
    offset = params.get("_offset", "")
    size = (
        20
        if count == ""
        else _whole_number(count, "_count", low=1, high=settings.FHIR_MAX_PAGE_SIZE)
    )
    start = 0 if offset == "" else _whole_number(offset, "_offset", low=0, high=MAX_OFFSET)
    return start, size


def values(params, parameter: str) -> list[str]:
    """A repeatable parameter's values, empty ones left out: FHIR ignores an empty parameter."""
    return [value for value in params.getlist(parameter) if value]


def reference_id(raw: str, parameter: str, resource_type: str) -> uuid.UUID:
    """The id of `Type/id` or of a bare id."""
    value = raw.removeprefix(f"{resource_type}/")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise invalid(parameter, f"Give {resource_type}/<id> with a CareSlot id.") from None


def resource_id(raw: str) -> uuid.UUID | None:
    """A read's id, or None when it cannot be one of ours (a 404, like any unknown id)."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def date_filter(values: list[str], parameter: str, field: str) -> Q:
    """`field` against each of `values` (`ge2026-12-01T09:00:00Z`, `lt2026-12-08`, ...),
    all of them at once. A date is a clinic-local day: `ge` its start, `lt` its start, `gt`
    and `le` the end of it, `eq` within it. An instant needs its offset."""
    condition = Q()
    for raw in values:
        prefixed = _PREFIXED.fullmatch(raw)
        prefix, value = prefixed.groups() if prefixed else (None, "")
        prefix = prefix or "eq"
        if re.fullmatch(RFC3339_DATETIME, value):
            moment = parse_datetime(value)
            if moment is None or not EARLIEST_DATE <= moment.date() <= LATEST_DATE:
                raise invalid(parameter, "That instant is out of range.")
            # In UTC: PostgreSQL refuses an offset beyond ±15:59, which Python reads.
            lower = upper = moment.astimezone(UTC)
            exact = True
        elif re.fullmatch(RFC3339_DATE, value):
            day = _day(value, parameter)
            lower, upper = day_start(day), day_start(day + timedelta(days=1))
            exact = False
        else:
            raise invalid(
                parameter,
                "Give a prefix (eq, gt, ge, lt, le) and a date (YYYY-MM-DD) or an instant "
                "with its offset (2026-12-01T09:00:00Z).",
            )
        condition &= _compare(field, prefix, lower, upper, exact)
    return condition


def _day(value: str, parameter: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise invalid(parameter, "That is not a date.") from None
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise invalid(parameter, "That date is out of range.")
    return day


def _compare(field: str, prefix: str, lower: datetime, upper: datetime, exact: bool) -> Q:
    if prefix == "ge":
        return Q(**{f"{field}__gte": lower})
    if prefix == "lt":
        return Q(**{f"{field}__lt": lower})
    if exact:
        return {
            "gt": Q(**{f"{field}__gt": lower}),
            "le": Q(**{f"{field}__lte": lower}),
            "eq": Q(**{field: lower}),
        }[prefix]
    return {
        "gt": Q(**{f"{field}__gte": upper}),
        "le": Q(**{f"{field}__lt": upper}),
        "eq": Q(**{f"{field}__gte": lower, f"{field}__lt": upper}),
    }[prefix]


def token_values(raw: str, parameter: str, allowed) -> list[str]:
    """A token parameter's comma-separated alternatives, each one of `allowed`."""
    values = raw.split(",")
    unknown = [value for value in values if value not in allowed]
    if unknown:
        raise invalid(parameter, f"Give one or more of: {', '.join(sorted(allowed))}.")
    return values
