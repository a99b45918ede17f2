"""Time zones. The clinic's own zone answers weekly rules and "which day" questions; each
user reads times in a zone of their own (`User.time_zone`, by default the clinic's);
everything is stored in UTC."""

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone


@cache
def zone_named(name: str) -> ZoneInfo:
    return ZoneInfo(name)


# Files of the tz database directory that are not zones a person lives in.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones()) - _NOT_ZONES


def clinic_zone_name() -> str:
    """The clinic's IANA zone name: the default of every user's `time_zone`."""
    name: str = settings.CLINIC_TIME_ZONE
    return name


def clinic_zone() -> ZoneInfo:
    return zone_named(settings.CLINIC_TIME_ZONE)


def time_zone_validate(name: str) -> None:
    """Refuse what is not an IANA zone name of the tz database (`Europe/London`,
    `America/New_York`, `UTC`). Paths and `localtime`, which ZoneInfo would also try to read,
    are not names."""
    if name not in _zone_names():
        raise ValidationError(
            f"{name!r} is not a time zone: use an IANA name such as Europe/London.",
            code="invalid",
        )


def clinic_today() -> date:
    return timezone.now().astimezone(clinic_zone()).date()


def day_start(day: date) -> datetime:
    """The instant a clinic-local day begins (midnight exists in every zone we serve; where it
    does not, zoneinfo moves it forward with the clock)."""
    return datetime.combine(day, time.min, tzinfo=clinic_zone())


def day_bounds(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """UTC bounds `[start of first, start of the day after last)` of a range of local days."""
    lower = day_start(first) if first else None
    upper = day_start(last + timedelta(days=1)) if last else None
    return lower, upper


def wall_time_occurrence(day: date, wall: time) -> datetime | None:
    """The first instant the clinic's clocks show `wall` on `day`, or None if they never do.

    On the day clocks go forward, a skipped wall time does not exist: no instant. On the day
    they go back, a repeated wall time occurs twice: the first (fold=0) is the one.
    """
    local = datetime.combine(day, wall, tzinfo=clinic_zone())
    round_trip = local.astimezone(UTC).astimezone(clinic_zone())
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return local.replace(fold=0).astimezone(UTC)
