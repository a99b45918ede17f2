"""Locks on appointments, patients and penalties. Their place in the one order every service
locks in, and the timeout every wait has, are in `core.locks`."""

from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias, TypedDict
from uuid import UUID

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from appointments.models import Appointment, AppointmentSeries, IdempotencyRecord, Penalty
from audit.services import encrypted_fields
from core.locks import row_lock, row_lock_existing, rows_lock
from patients.models import Patient

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class PenaltyCount(TypedDict):
    unresolved_penalties: int


# A patient as `patient_lock` reads it: with their count of unresolved no-show penalties.
LockedPatient: TypeAlias = "WithAnnotations[Patient, PenaltyCount]"


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


def patient_lock(*, patient_id: UUID) -> LockedPatient:
    """Lock the patient's row, with their user (whom the notifications address) and their
    count of unresolved no-show penalties (`unresolved_penalties`), as of the start of this
    statement: no writer of penalties (a no-show, by the sweep, a doctor or an admin) takes
    the patient's lock, so a count taken after it would be no safer against them, and this
    saves a query on every booking. The encrypted fields, which booking never reads, are not
    loaded (nor decrypted)."""
    unresolved = (
        Penalty.objects.filter(patient=OuterRef("pk"), resolved=False)
        .order_by()
        .values("patient")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return row_lock_existing(
        Patient.objects.select_related("user")
        .defer(*encrypted_fields(Patient))
        .annotate(unresolved_penalties=Coalesce(Subquery(unresolved), 0))
        .filter(pk=patient_id)
    )


def idempotency_records_lock_expired(*, cutoff: datetime, limit: int) -> list[int]:
    """The ids of up to `limit` idempotency records created before `cutoff` that no other
    transaction holds, locked (the purge: two purges share the work, and a booking claiming
    an expired key is not kept waiting). Their encrypted answers are not read."""
    expired = IdempotencyRecord.objects.filter(created_at__lt=cutoff).only("pk")
    return [record.pk for record in rows_lock(expired, skip_locked=True, limit=limit)]


def penalty_lock(*, penalty_id: UUID) -> Penalty:
    return row_lock_existing(Penalty.objects.filter(pk=penalty_id))
