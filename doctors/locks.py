"""Locks on doctors' rows. Their place in the one order every service locks in, and the
timeout every wait has, are in `core.locks`."""

from uuid import UUID

from core.locks import row_lock_existing, row_share_lock
from doctors.models import Doctor


def doctor_lock(*, doctor_id: UUID) -> Doctor:
    """The doctor (with their user), locked for update: blacklisting, unblacklisting and a
    new rating; it waits for the bookings holding the row shared, and they for it."""
    return row_lock_existing(Doctor.objects.select_related("user").filter(pk=doctor_id))


def doctor_share_lock(*, doctor_id: UUID) -> Doctor:
    """The doctor's standing, read under a shared lock: bookings of one doctor do not wait for
    each other, but a blacklisting waits for them and they for it, so that none lands for a
    doctor just blacklisted."""
    return row_share_lock(Doctor, doctor_id)
