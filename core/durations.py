"""Short durations as people write them: `48h`, `2h`, `30m`, `1h30m`.

The clinic's reminder lead times (`REMINDER_LEAD_TIMES`) and a patient's choice among them
(`reminder_lead_times` on `PATCH /patients/{id}/`) are written this way, so the setting and
the API read the same text and print it back the same (`duration_format`).
"""

import re
from datetime import timedelta

# Hours, minutes or both, in that order, each a whole number; nothing else (no days or
# seconds: a lead time finer than a minute would fall between two reminder sweeps). Written
# without lookarounds, so the schema's pattern reads the same in every client's regex engine.
DURATION_PATTERN = r"^([0-9]{1,4}h([0-9]{1,5}m)?|[0-9]{1,5}m)$"
_HOURS_MINUTES = re.compile(r"(?:([0-9]+)h)?(?:([0-9]+)m)?")


class DurationInvalid(ValueError):
    """Text that is not a short duration, or is one of zero length."""


def duration_parse(text: str, *, allow_zero: bool = False) -> timedelta:
    """`48h` -> 48 hours; `1h30m` -> 90 minutes; `0h` only with `allow_zero` (a cutoff that is
    off). Raises `DurationInvalid` otherwise."""
    written = text.strip().lower()
    found = _HOURS_MINUTES.fullmatch(written)
    if found is None or not re.fullmatch(DURATION_PATTERN, written):
        raise DurationInvalid(
            f"{text!r} is not a duration: write hours and minutes such as 48h, 2h, 30m or 1h30m."
        )
    parts = found.groups()
    hours, minutes = (int(part or 0) for part in parts)
    duration = timedelta(hours=hours, minutes=minutes)
    if not duration and not allow_zero:
        raise DurationInvalid(f"{text!r} is no time at all: a duration must be positive.")
    return duration


def duration_format(duration: timedelta) -> str:
    """The short form of a whole number of minutes: 90 minutes -> `1h30m`, 2 hours -> `2h`."""
    minutes = int(duration.total_seconds()) // 60
    hours, minutes = divmod(minutes, 60)
    return (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes or not hours else "")


def duration_list_parse(text: str) -> list[timedelta]:
    """`48h,2h,30m` -> the distinct durations, longest first. Raises `DurationInvalid`."""
    parts = [part for part in (piece.strip() for piece in text.split(",")) if part]
    if not parts:
        raise DurationInvalid("No durations given: write them comma-separated, such as 48h,2h.")
    return sorted({duration_parse(part) for part in parts}, reverse=True)
