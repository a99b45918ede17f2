"""Locks on doctors' rows. Their place in the one order every service locks in, and the
timeout every wait has, are in `core.locks`."""

from typing import Any
from uuid import UUID

from accounts.models import User
from core.locks import locked_statement, locked_statement_existing, row_lock_existing
from core.statements import Statement, columns_of, row_model
from doctors.models import Doctor

# What a booking reads of the doctor's user: their name and time zone, for its messages.
USER_NAME_FIELDS = ("id", "username", "first_name", "last_name", "time_zone")

# Names in the SQL come from the models' metadata, never from input.
_SHARE_LOCK_SQL = (
    f"SELECT {columns_of(Doctor, 'd')}, {columns_of(User, 'u', USER_NAME_FIELDS)} "  # noqa: S608
    "FROM doctors_doctor d JOIN accounts_user u ON u.id = d.user_id "
    "WHERE d.user_id = %s FOR SHARE OF d"
)


def _doctor_read(rows: list[tuple[Any, ...]]) -> Doctor | None:
    if not rows:
        return None
    doctor_columns = len(Doctor._meta.concrete_fields)
    doctor = row_model(Doctor, rows[0][:doctor_columns])
    doctor.user = row_model(User, rows[0][doctor_columns:], USER_NAME_FIELDS)
    return doctor


def doctor_lock(*, doctor_id: UUID) -> Doctor:
    """The doctor (with their user), locked for update: blacklisting, unblacklisting and a
    new rating; it waits for the bookings holding the row shared, and they for it."""
    return row_lock_existing(Doctor.objects.select_related("user").filter(pk=doctor_id))


def doctor_share_lock_statement(*, doctor_id: UUID) -> Statement[Doctor | None]:
    """The doctor's standing, with their user's name and time zone, read under a shared lock
    (`FOR SHARE`): bookings of one doctor do not wait for each other, but a blacklisting
    waits for them and they for it, so that none lands for a doctor just blacklisted. None if
    there is no such doctor."""
    return locked_statement(_SHARE_LOCK_SQL, [doctor_id], _doctor_read)


def doctor_share_lock(*, doctor_id: UUID) -> Doctor:
    """`doctor_share_lock_statement`, sent alone; Doctor.DoesNotExist if there is none."""
    return locked_statement_existing(doctor_share_lock_statement(doctor_id=doctor_id), Doctor)
