"""Periodic writes about appointments, run by beat and by management commands: the no-show
sweep (`sweep_no_shows`), the reminders (`send_reminders`) and the purge of expired
idempotency records (`purge_idempotency_records`).

Both are safe to run twice at once, and again and again: each appointment is handled in its
own short locking transaction (`core.locks`) that first locks its row, skipping it if
another transaction holds it (`appointments.locks.appointment_lock_if_free`), and re-checks
that it is still due. A second sweep skips the rows the first holds, and finds the
ones it already finished no longer due. Every move goes through `appointment_transition`
(the one function that knows the transition table) with the system as actor.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from appointments import notify
from appointments.exceptions import InvalidTransition
from appointments.locks import appointment_lock_if_free, idempotency_records_lock_expired
from appointments.models import Appointment, AppointmentStatus, IdempotencyRecord
from appointments.services import appointment_transition
from appointments.transitions import Action
from audit.services import encrypted_fields
from core.locks import locking_transaction
from notifications.models import Notification
from patients.models import Patient

logger = logging.getLogger(__name__)

NOT_CONFIRMED_IN_TIME = "not confirmed in time"
DOCTOR_NOT_AVAILABLE = "the doctor was not available"
# The patient's protected health information, which choosing their reminders never reads.
_PATIENT_SECRETS = [f"patient__{name}" for name in encrypted_fields(Patient)]
# Idempotency records deleted per transaction by the purge.
PURGE_BATCH = 1000


@dataclass(frozen=True)
class SweepResult:
    no_shows: int
    cancelled: int


def _moves_apply(due: QuerySet[Appointment], action: Action, note: str = "") -> int:
    moved = 0
    for appointment_id in list(due.order_by("pk").values_list("pk", flat=True)):
        try:
            with locking_transaction():
                if appointment_lock_if_free(due, appointment_id) is None:
                    continue
                appointment_transition(
                    appointment_id=appointment_id, action=action, actor=None, note=note
                )
                moved += 1
        except InvalidTransition:
            logger.info("Sweep: appointment %s was moved meanwhile; left as is.", appointment_id)
    return moved


def no_show_sweep(*, now: datetime | None = None) -> SweepResult:
    """Confirmed appointments that ended more than `NO_SHOW_GRACE` ago become `no_show` (one
    penalty each, unique per appointment, and one email to the patient), unless their doctor
    was blacklisted before they ended: those are cancelled, "the doctor was not available",
    and nobody is penalised. Pending appointments whose start has passed become `cancelled`,
    "not confirmed in time". The system is the actor of the history rows. Locks one
    appointment at a time (see the module docstring), then what the transition locks after
    it (its slot)."""
    now = now or timezone.now()
    ended = Appointment.objects.filter(
        status=AppointmentStatus.CONFIRMED, end__lte=now - settings.NO_SHOW_GRACE
    )
    barred = Q(doctor__blacklisted_at__lt=F("end"))
    no_shows = _moves_apply(ended.exclude(barred), Action.NO_SHOW)
    withdrawn = _moves_apply(ended.filter(barred), Action.WITHDRAW, note=DOCTOR_NOT_AVAILABLE)
    expired = _moves_apply(
        Appointment.objects.filter(status=AppointmentStatus.PENDING, start__lte=now),
        Action.EXPIRE,
        note=NOT_CONFIRMED_IN_TIME,
    )
    return SweepResult(no_shows=no_shows, cancelled=withdrawn + expired)


def reminder_lead_time_due(*, appointment: Appointment, now: datetime) -> timedelta | None:
    """The lead time whose reminder `appointment` is due at `now`: the shortest of its
    patient's (`Patient.reminder_lead_times_wanted`) that has been reached, and had not been
    when it was booked. None if no lead time is due. Only the shortest reached counts: after
    a pause of the sweeps, a patient two hours away hears once, not also "in 48 hours"."""
    reached = [
        lead
        for lead in appointment.patient.reminder_lead_times_wanted()
        if appointment.start - lead <= now
    ]
    if not reached:
        return None
    lead = min(reached)
    return lead if appointment.start - lead >= appointment.created_at else None


def reminders_send(*, now: datetime | None = None) -> int:
    """Write the reminders that have come due (their emails follow the commit); returns how
    many were written.

    A confirmed appointment is reminded at each of its patient's lead times
    (`REMINDER_LEAD_TIMES`, less those the patient turned off); a lead time that had passed
    when the appointment was booked is skipped, not sent late (`reminder_lead_time_due`).
    One per appointment and lead time, ever: the outbox's `dedupe_key` is unique
    (`notify.reminder_key`). Never for an appointment cancelled or moved: it is re-checked as
    confirmed under its row lock, and a move away from confirmed withdraws the reminders not
    yet sent (`notify.status_change_notify`); a moved appointment's new booking is another
    appointment, with reminders of its own at the lead times still ahead of it.
    """
    now = now or timezone.now()
    longest = max(settings.REMINDER_LEAD_TIMES)
    due = Appointment.objects.filter(
        status=AppointmentStatus.CONFIRMED, start__gt=now, start__lte=now + longest
    )
    candidates = [
        (appointment.pk, lead)
        for appointment in due.select_related("patient").defer(*_PATIENT_SECRETS).order_by("pk")
        if (lead := reminder_lead_time_due(appointment=appointment, now=now)) is not None
    ]
    sent = set(
        Notification.objects.filter(
            dedupe_key__in=[notify.reminder_key(pk, lead) for pk, lead in candidates]
        ).values_list("dedupe_key", flat=True)
    )
    written = 0
    for appointment_id, lead in candidates:
        if notify.reminder_key(appointment_id, lead) in sent:
            continue
        with locking_transaction():
            appointment = appointment_lock_if_free(due, appointment_id)
            if appointment is None:
                continue
            # Re-read under the lock: the patient may have changed their choice meanwhile.
            if reminder_lead_time_due(appointment=appointment, now=now) != lead:
                continue
            if notify.reminder_notify(appointment=appointment, lead_time=lead):
                written += 1
    return written


def idempotency_records_purge(*, now: datetime | None = None) -> int:
    """Delete the idempotency records older than `IDEMPOTENCY_KEY_TTL` (whose keys count as
    unused anyway) and with them the encrypted answers they kept; returns how many.

    Safe to run twice at once, and beside the bookings: each batch of `PURGE_BATCH` is its own
    short transaction that takes only the rows no one else holds (`SKIP LOCKED`), so two purges
    share the work without waiting for each other, and a booking claiming an expired key
    (`appointments.api.idempotency`) is never kept waiting long."""
    cutoff = (now or timezone.now()) - settings.IDEMPOTENCY_KEY_TTL
    purged = 0
    while True:
        with locking_transaction():
            batch = idempotency_records_lock_expired(cutoff=cutoff, limit=PURGE_BATCH)
            if not batch:
                return purged
            purged += IdempotencyRecord.objects.filter(pk__in=batch).delete()[0]
