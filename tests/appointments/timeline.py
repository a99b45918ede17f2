"""Appointments at chosen times, in the past too, written straight to the database as the
booking service would leave them (window, slot, appointment, the slot's booked mark)."""

from datetime import datetime, timedelta

from django.utils import timezone

from appointments.models import Appointment
from scheduling.models import AvailabilityWindow, Slot
from tests.factories import AppointmentFactory


def appointment_at(
    doctor, patient, *, start: datetime | None = None, status: str = "confirmed", **delta
) -> Appointment:
    """An appointment of one hour starting at `start`, or `delta` from now (`hours=-3`)."""
    start = start or timezone.now().replace(microsecond=0) + timedelta(**delta)
    window = AvailabilityWindow.objects.create(
        doctor=doctor, start=start, end=start + timedelta(hours=1)
    )
    slot = Slot.objects.create(doctor=doctor, window=window, start=window.start, end=window.end)
    return AppointmentFactory.create(doctor=doctor, patient=patient, slot=slot, status=status)
