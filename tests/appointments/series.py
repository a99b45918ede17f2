"""Building recurring series' slots in tests: one slot a visit, at the clinic-local wall time of
the first, as the series service looks for them."""

from datetime import datetime, timedelta

from core.clinic_time import clinic_zone
from doctors.models import Doctor
from scheduling.models import Slot
from tests.factories import in_future
from tests.schedule import slot_published

URL = "/api/v1/appointment-series/"


def visit_start(first: datetime, weeks: int) -> datetime:
    """The start of the visit `weeks` weeks after `first`, at the same clinic-local time."""
    local = first.astimezone(clinic_zone())
    return datetime.combine(local.date() + timedelta(weeks=weeks), local.time(), clinic_zone())


def weekly_slots(doctor: Doctor, *, count: int, first: datetime | None = None) -> list[Slot]:
    """`count` free slots of the doctor, a week apart (default: from in three days, 10:00)."""
    first = first or in_future(days=3).replace(hour=10)
    return [slot_published(doctor, start=visit_start(first, week)) for week in range(count)]


def local_day(slot: Slot) -> str:
    return slot.start.astimezone(clinic_zone()).date().isoformat()
