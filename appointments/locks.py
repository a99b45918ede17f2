"""Locks on appointments, patients and penalties. Their place in the one order every service
locks in, and the timeout every wait has, are in `core.locks`."""

from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict
from uuid import UUID

from django.db.models import QuerySet

from accounts.models import User
from appointments.models import Appointment, AppointmentSeries, IdempotencyRecord, Penalty
from audit.services import encrypted_fields
from core.errors import NotFound
from core.locks import (
    locked_statement,
    locked_statement_existing,
    row_lock,
    row_lock_existing,
    rows_lock,
)
from core.statements import Statement, columns_of, row_model
from doctors.locks import USER_NAME_FIELDS
from patients.models import Patient

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class PenaltyCount(TypedDict):
    unresolved_penalties: int


# A patient as `patient_lock` reads it: with their count of unresolved no-show penalties.
LockedPatient: TypeAlias = "WithAnnotations[Patient, PenaltyCount]"

# The patient's fields a booking reads: all but the encrypted ones.
_PATIENT_FIELDS = tuple(
    field.name
    for field in Patient._meta.concrete_fields
    if field.name not in encrypted_fields(Patient)
)


def series_lock(*, series_id: UUID) -> AppointmentSeries:
    """The series, locked: one cancellation of its visits at a time."""
    return row_lock_existing(AppointmentSeries.objects.filter(pk=series_id))


def appointment_lock(*, appointment_id: UUID) -> Appointment:
    """The appointment (with its doctor, whose standing some moves depend on), locked."""
    return row_lock_existing(Appointment.objects.select_related("doctor").filter(pk=appointment_id))


def appointments_lock(appointments: QuerySet[Appointment]) -> list[Appointment]:
    """Lock appointments, in primary-key order."""
    return rows_lock(appointments.select_related("doctor"))


def appointment_lock_if_free(
    due: QuerySet[Appointment], appointment_id: UUID
) -> Appointment | None:
    """The appointment, locked, if it is still in `due` and no other transaction holds it
    (the sweeps: a second sweep skips what the first is moving)."""
    return row_lock(
        due.filter(pk=appointment_id).select_related("patient__user", "doctor__user"),
        skip_locked=True,
    )


# Names in the SQL come from the models' metadata, never from input.
_PATIENT_LOCK_SQL = (
    f"SELECT {columns_of(Patient, 'p', _PATIENT_FIELDS)}, "  # noqa: S608
    f"{columns_of(User, 'u', USER_NAME_FIELDS)}, "
    "(SELECT count(*) FROM appointments_penalty n WHERE n.patient_id = p.user_id "
    "AND NOT n.resolved) "
    "FROM patients_patient p JOIN accounts_user u ON u.id = p.user_id "
    "WHERE p.user_id = %s FOR NO KEY UPDATE OF p"
)


def _patient_read(rows: list[tuple[Any, ...]]) -> "LockedPatient | None":
    if not rows:
        return None
    *values, unresolved = rows[0]
    patient_columns = len(_PATIENT_FIELDS)
    patient = row_model(Patient, values[:patient_columns], _PATIENT_FIELDS)
    patient.user = row_model(User, values[patient_columns:], USER_NAME_FIELDS)
    patient.unresolved_penalties = unresolved  # type: ignore[attr-defined]
    return patient  # type: ignore[return-value]


def patient_lock_statement(*, patient_id: UUID) -> Statement["LockedPatient | None"]:
    """Lock the patient's row, with their user's name and time zone (the notifications
    address them) and their count of unresolved no-show penalties (`unresolved_penalties`),
    as of the start of this statement: no writer of penalties (a no-show, by the sweep, a
    doctor or an admin) takes the patient's lock, so a count taken after it would be no safer
    against them, and this saves a query on every booking. The encrypted fields, which
    booking never reads, are not loaded (nor decrypted). None if there is no such patient."""
    return locked_statement(_PATIENT_LOCK_SQL, [patient_id], _patient_read)


def patient_lock(*, patient_id: UUID) -> LockedPatient:
    """`patient_lock_statement`, sent alone; Patient.DoesNotExist if there is none."""
    return locked_statement_existing(patient_lock_statement(patient_id=patient_id), Patient)


def patient_locked_check(patient: "LockedPatient | None") -> LockedPatient:
    """The patient `patient_lock_statement` read for a booking the API asked for; 404
    `not_found` if there was none (a user with the patient role whose profile was never
    made: the API does not look before the booking locks)."""
    if patient is None:
        raise NotFound("There is no such patient.")
    return patient


def idempotency_records_lock_expired(*, cutoff: datetime, limit: int) -> list[int]:
    """The ids of up to `limit` idempotency records created before `cutoff` that no other
    transaction holds, locked (the purge: two purges share the work, and a booking claiming
    an expired key is not kept waiting). Their encrypted answers are not read."""
    expired = IdempotencyRecord.objects.filter(created_at__lt=cutoff).only("pk")
    return [record.pk for record in rows_lock(expired, skip_locked=True, limit=limit)]


def penalty_lock(*, penalty_id: UUID) -> Penalty:
    return row_lock_existing(Penalty.objects.filter(pk=penalty_id))
