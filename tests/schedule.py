"""Building doctors' schedules in tests through the real services."""

from datetime import datetime, timedelta

from doctors.models import Doctor
from scheduling import services
from scheduling.models import AvailabilityWindow, Slot
from tests.factories import in_future


def window_published(
    doctor: Doctor, *, start: datetime | None = None, hours: int = 3
) -> AvailabilityWindow:
    """A window published by the doctor (default: in three days at 09:00 UTC)."""
    start = start or in_future(days=3).replace(hour=9)
    return services.window_create(doctor=doctor, start=start, end=start + timedelta(hours=hours))


def slot_published(doctor: Doctor, *, start: datetime | None = None) -> Slot:
    """One free slot of the doctor, in its own one-slot window."""
    return window_published(doctor, start=start, hours=1).slots.get()
