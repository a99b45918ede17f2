"""Writes about appointments: booking (and, with the lifecycle, every status change).

Locking: every service here takes its locks through the `locks` modules, in the one order
written down in `core.locks` (a doctor's schedule, the doctor, appointments, slots, the
patient, penalties), inside a transaction whose lock waits are bounded
(`BOOKING_LOCK_TIMEOUT_MS`; past it, 503 with Retry-After). Rules are checked cheaply before
any lock, then checked again under the locks, on what is there now, because another
transaction may have changed the answer meanwhile. The database's constraints are the last
word: a violation that slips past the checks becomes the same 409 as the check.

Each write also writes its notifications (`appointments.notify`, an outbox) in the same
transaction; their emails are queued only after the commit, so a broker that is down never
fails or undoes a booking or a move.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError
from django.db.models import Avg, Count, Q
from django.utils import timezone

from accounts.models import User
from appointments import notify
from appointments.exceptions import (
    AppointmentLimitReached,
    BeyondBookingHorizon,
    BookingRestricted,
    DoctorUnavailable,
    DuplicateFeedback,
    InvalidTransition,
    LeadTimeViolation,
    PatientConflict,
    SlotUnavailable,
)
from appointments.locks import (
    LockedPatient,
    appointment_lock,
    appointments_lock,
    patient_lock,
    penalty_lock,
)
from appointments.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    AppointmentStatusChange,
    Feedback,
    Penalty,
    PenaltyKind,
)
from appointments.transitions import (
    CALLED_OFF,
    Action,
    Party,
    move_late,
    party_of,
    transition_check,
)
from audit.services import (
    CHANGED,
    audit_model_create,
    audit_model_update,
    audit_record,
    model_values,
)
from core.db import violated_constraint
from core.errors import EndNotAfterStart, FieldInvalid, Forbidden
from core.locks import locking_transaction
from doctors.locks import doctor_lock, doctor_share_lock
from doctors.models import Doctor
from doctors.services import doctor_blacklist
from patients.models import Patient
from scheduling.exceptions import SlotInPast
from scheduling.locks import doctor_schedule_lock, slot_lock, slots_lock
from scheduling.models import AvailabilityWindow, Slot
from scheduling.selectors import slot_is_closed
from scheduling.services import schedule_reach_check, window_delete

MAX_OVERRIDE_LENGTH = timedelta(hours=24)

_CONSTRAINT_ERRORS = {
    "appointments_one_active_per_slot": SlotUnavailable,
    "appointments_doctor_no_overlap": SlotUnavailable,
    "appointments_patient_no_overlap": PatientConflict,
    "scheduling_window_no_overlap": SlotUnavailable,
    "scheduling_slot_no_overlap": SlotUnavailable,
}


@contextmanager
def _locking_transaction() -> Iterator[None]:
    """A locking transaction (`core.locks`) whose constraint violations become the domain
    errors the checks would have raised."""
    try:
        with locking_transaction():
            yield
    except IntegrityError as error:
        domain_error = _CONSTRAINT_ERRORS.get(violated_constraint(error) or "")
        if domain_error is None:
            raise
        raise domain_error() from error


def _booking_time_check(*, start: datetime) -> None:
    now = timezone.now()
    if start <= now:
        raise SlotInPast("That slot has already started.", attr="slot")
    if start < now + settings.BOOKING_LEAD_TIME:
        raise LeadTimeViolation(attr="slot")
    if start >= now + timedelta(days=settings.BOOKING_HORIZON_DAYS):
        raise BeyondBookingHorizon(attr="slot")


def _patient_active_counts(*, patient: Patient, start: datetime, end: datetime) -> tuple[int, int]:
    """(upcoming, overlapping): how many of the patient's active appointments are still to
    come, and how many overlap `start`-`end`. One query, read under the patient's lock: no
    booking of theirs can add to either meanwhile (a cancellation may only lower them)."""
    counts = Appointment.objects.filter(patient=patient, status__in=ACTIVE_STATUSES).aggregate(
        upcoming=Count("pk", filter=Q(start__gt=timezone.now())),
        overlapping=Count("pk", filter=Q(start__lt=end, end__gt=start)),
    )
    return counts["upcoming"], counts["overlapping"]


def status_change_record(
    *, appointment: Appointment, from_status: str, actor: User | None, note: str = ""
) -> AppointmentStatusChange:
    """The history row of a move and its audit entry: `create` for the booking (marked
    `override` when outside published availability), `transition` for every later move. The
    entry says only that the move had a note, never what it said."""
    change = AppointmentStatusChange.objects.create(
        appointment=appointment,
        from_status=from_status,
        to_status=appointment.status,
        actor=actor,
        at=timezone.now(),
        note=note,
    )
    details: dict[str, Any] = {"status": [from_status or None, appointment.status]}
    if not from_status:
        details.update(
            patient=[None, str(appointment.patient_id)],
            doctor=[None, str(appointment.doctor_id)],
            slot=[None, str(appointment.slot_id)],
            start=[None, appointment.start],
            end=[None, appointment.end],
            override=appointment.is_override,
        )
        if appointment.rescheduled_from_id:
            details["rescheduled_from"] = str(appointment.rescheduled_from_id)
    if note:
        details["note"] = CHANGED  # free text about the visit, encrypted at rest
    audit_record(
        action="create" if not from_status else "transition",
        target_type="appointment",
        target_id=appointment.pk,
        changes=details,
        actor=actor,
    )
    return change


def _booking_write(
    *,
    actor: User,
    doctor: Doctor,
    patient: LockedPatient,
    slot: Slot,
    reason: str,
    rescheduled_from: Appointment | None = None,
    keep_confirmed: bool = False,
    is_override: bool = False,
) -> Appointment:
    """Re-check under the locks (the doctor shared, the slot and the patient, held by the
    caller) and write the appointment, the slot's booked mark, the first history row and the
    notifications of the patient and the doctor (emailed after the commit).

    The appointment is `pending` when the doctor requires approval, unless it replaces a
    confirmed one (`keep_confirmed`, a reschedule): that stays confirmed."""
    upcoming, overlapping = _patient_active_counts(patient=patient, start=slot.start, end=slot.end)
    _booking_restriction_check(actor=actor, patient=patient, upcoming=upcoming)
    if not is_override and slot_is_closed(slot=slot):
        raise SlotUnavailable("The doctor is not available at that time.", attr="slot")
    if doctor.is_blacklisted:
        raise DoctorUnavailable()
    if overlapping:
        raise PatientConflict()
    appointment = Appointment.objects.create(
        patient=patient,
        doctor=doctor,
        slot=slot,
        start=slot.start,
        end=slot.end,
        status=AppointmentStatus.PENDING
        if doctor.requires_approval and not keep_confirmed
        else AppointmentStatus.CONFIRMED,
        reason=reason,
        rescheduled_from=rescheduled_from,
        is_override=is_override,
        created_by=actor,
    )
    slot.is_booked = True
    slot.save(update_fields=["is_booked"])
    status_change_record(
        appointment=appointment,
        from_status="",
        actor=actor,
        note="Booked outside published availability." if is_override else "",
    )
    notify.booking_notify(appointment=appointment)
    return appointment


def _booking_restriction_check(*, actor: User, patient: LockedPatient, upcoming: int) -> None:
    """Limits on a patient booking for themselves (an admin may still book for them):
    `NO_SHOW_PENALTY_LIMIT` unresolved no-show penalties (403 `booking_restricted`), and at
    most `MAX_ACTIVE_APPOINTMENTS_PER_PATIENT` `upcoming` active appointments, so that no one
    hoards a clinic's slots (409 `appointment_limit_reached`). Checked under the patient's
    lock only (`patient_lock`, `_patient_active_counts`), where their appointments cannot
    grow underneath."""
    if actor.is_admin:
        return
    if patient.unresolved_penalties >= settings.NO_SHOW_PENALTY_LIMIT:
        raise BookingRestricted()
    if upcoming >= settings.MAX_ACTIVE_APPOINTMENTS_PER_PATIENT:
        raise AppointmentLimitReached()


def _slot_bookable_check(*, slot_id: UUID) -> Slot:
    """The cheap checks, without locks: the slot exists and its time and doctor allow it."""
    slot = Slot.objects.select_related("doctor").filter(pk=slot_id).first()
    if slot is None:
        raise SlotUnavailable("There is no such slot.", attr="slot")
    _booking_time_check(start=slot.start)
    if slot.doctor.is_blacklisted:
        raise DoctorUnavailable()
    if slot.is_booked:
        raise SlotUnavailable(attr="slot")
    return slot


def _slot_free_check(slot: Slot | None) -> Slot:
    """The slot, locked: still there and still free."""
    if slot is None:  # its window was removed since the cheap check
        raise SlotUnavailable("There is no such slot.", attr="slot")
    if slot.is_booked:
        raise SlotUnavailable(attr="slot")
    return slot


def appointment_book(
    *, actor: User, patient: Patient, slot_id: UUID, reason: str = ""
) -> Appointment:
    """Book a free slot for a patient.

    Rules, each with its API code: the slot exists and is free (`slot_unavailable`), has not
    started (`slot_in_past`), starts after the lead time (`lead_time_violation`) and within the
    horizon (`beyond_booking_horizon`); its doctor is not blacklisted (`doctor_unavailable`);
    the patient holds no active appointment overlapping it (`patient_conflict`); a patient
    booking for themselves has fewer than `NO_SHOW_PENALTY_LIMIT` unresolved no-show
    penalties (403 `booking_restricted`). The new
    appointment is `pending`, or `confirmed` when the doctor does not require approval.

    Locks (`core.locks`): the doctor shared, the slot, the patient; everything is re-checked
    under them before writing.
    """
    slot = _slot_bookable_check(slot_id=slot_id)
    with _locking_transaction():
        doctor = doctor_share_lock(doctor_id=slot.doctor_id)
        slot = _slot_free_check(slot_lock(slot_id=slot.pk))
        patient = patient_lock(patient_id=patient.pk)
        return _booking_write(actor=actor, doctor=doctor, patient=patient, slot=slot, reason=reason)


def appointment_book_override(
    *,
    actor: User,
    patient: Patient,
    doctor: Doctor,
    start: datetime,
    end: datetime,
    reason: str = "",
) -> Appointment:
    """An admin's booking outside published availability, audited as an override.

    It makes a one-slot window of exactly the booked time (so later windows cannot be
    published over it) and books it like any slot; time off and holidays do not stop it, the
    lead time and horizon do not apply. It still never overlaps a window of the doctor
    (`slot_unavailable`: book that window's slot instead) nor an active appointment of the
    doctor or the patient (`patient_conflict`).

    Locks (`core.locks`): the doctor's schedule, the doctor shared, the patient.
    """
    if end <= start:
        raise EndNotAfterStart()
    if end - start > MAX_OVERRIDE_LENGTH:
        raise FieldInvalid("An appointment may be at most 24 hours long.", attr="end")
    if start <= timezone.now():
        raise SlotInPast(attr="start")
    schedule_reach_check(day=start.date(), attr="start")
    if doctor.is_blacklisted:
        raise DoctorUnavailable()
    with _locking_transaction():
        doctor_schedule_lock(doctor_id=doctor.pk)
        doctor = doctor_share_lock(doctor_id=doctor.pk)
        if AvailabilityWindow.objects.filter(doctor=doctor, start__lt=end, end__gt=start).exists():
            raise SlotUnavailable(
                "This overlaps the doctor's published availability: book one of its slots."
            )
        window = AvailabilityWindow.objects.create(
            doctor=doctor, start=start, end=end, is_override=True
        )
        slot = Slot.objects.create(doctor=doctor, window=window, start=start, end=end)
        patient = patient_lock(patient_id=patient.pk)
        return _booking_write(
            actor=actor,
            doctor=doctor,
            patient=patient,
            slot=slot,
            reason=reason,
            is_override=True,
        )


def _transition_apply(
    *, appointment: Appointment, action: Action, actor: User | None, note: str = ""
) -> Appointment:
    """Make one move on an appointment the caller has locked: check it against the table on
    the status it has now, write it, free the slot when leaving an active status (the UPDATE
    locks it; a caller moving several appointments locks their slots first) and remove an
    override's window when its visit is called off, record the move, create the penalty of a
    no-show or of the patient's late move (which reaches here only where the clinic penalises
    late moves: `transition_check` refuses them elsewhere) and write the notifications
    (`appointments.notify`), in the caller's transaction."""
    now = timezone.now()
    move = transition_check(appointment=appointment, action=action, actor=actor, now=now)
    from_status = appointment.status
    appointment.status = move.target
    appointment.save(update_fields=["status", "updated_at"])
    if from_status in ACTIVE_STATUSES and not appointment.is_active and appointment.slot_id:
        Slot.objects.filter(pk=appointment.slot_id).update(is_booked=False)
        if appointment.is_override and move.target in CALLED_OFF:
            _override_window_remove(appointment)
    status_change_record(appointment=appointment, from_status=from_status, actor=actor, note=note)
    penalty_kind = (
        PenaltyKind.NO_SHOW
        if move.target == AppointmentStatus.NO_SHOW
        else PenaltyKind.LATE_CANCELLATION
        if move_late(appointment=appointment, action=action, actor=actor, now=now)
        else None
    )
    if penalty_kind is not None:
        penalty = Penalty.objects.create(
            patient_id=appointment.patient_id, appointment=appointment, kind=penalty_kind
        )
        audit_model_create(instance=penalty, fields=["patient", "appointment", "kind"], actor=actor)
    notify.status_change_notify(appointment=appointment, from_status=from_status, actor=actor)
    if penalty_kind == PenaltyKind.LATE_CANCELLATION:
        notify.late_cancellation_notify(appointment=appointment)
    return appointment


def _override_window_remove(appointment: Appointment) -> None:
    """An override's one-slot window is an hour the doctor never published, made for this
    booking alone: once its visit is called off, the window and its slot go with it, so that
    nobody else can book the doctor then and the doctor may publish that hour. The
    appointment keeps its doctor, start and end; its `slot` becomes empty. (A completed or
    missed override keeps its window: that hour is over.)"""
    if appointment.slot_id is None:  # its window is gone already
        return
    window_delete(window=AvailabilityWindow.objects.get(slots__pk=appointment.slot_id))
    appointment.slot = None


def appointment_transition(
    *,
    appointment_id: UUID,
    action: Action,
    actor: User | None,
    note: str = "",
    diagnosis: str | None = None,
    treatment_notes: str | None = None,
) -> Appointment:
    """Every status change of an appointment except rescheduling (`appointment_reschedule`).

    Rules are `appointments.transitions.TRANSITIONS`: who may make the move (403 otherwise),
    from which status and when (409 `invalid_transition` otherwise). `actor=None` is the
    system (the sweep). `complete` stores `diagnosis` and `treatment_notes` (encrypted at
    rest); `no_show` creates the patient's penalty and their one no-show email.

    Checked once without locks (a refusal costs no lock), then again under the appointment's
    row lock on the status it has now: a move whose rule still holds after a concurrent move
    succeeds (a cancel after a confirm), and of two moves that exclude each other (confirm and
    reject, complete and no-show) the second finds the first done and answers 409
    `invalid_transition`. Locks (`core.locks`): the appointment, then its slot.
    """
    appointment = Appointment.objects.select_related("doctor").get(pk=appointment_id)
    transition_check(appointment=appointment, action=action, actor=actor, now=timezone.now())
    with _locking_transaction():
        appointment = appointment_lock(appointment_id=appointment_id)
        appointment = _transition_apply(
            appointment=appointment, action=action, actor=actor, note=note
        )
        if action == Action.COMPLETE:
            before = model_values(appointment, ["diagnosis", "treatment_notes"])
            appointment.diagnosis = diagnosis or ""
            appointment.treatment_notes = treatment_notes or ""
            appointment.save(update_fields=["diagnosis", "treatment_notes", "updated_at"])
            audit_model_update(instance=appointment, before=before, actor=actor)
        return appointment


def appointment_reschedule(
    *, appointment_id: UUID, actor: User, slot_id: UUID, reason: str | None = None
) -> Appointment:
    """Move an appointment to another free slot, all or nothing.

    The old appointment becomes `rescheduled` (the patient, before its start, or an admin);
    the new one (`rescheduled_from` = old) is booked under every rule of `appointment_book`,
    keeping the old reason unless another is given; a confirmed appointment's new one is
    confirmed too (the doctor agreed to see the patient; the new hour is one they published).
    If the new slot cannot be had, the whole transaction rolls back: 409 and the old
    appointment untouched.

    Locks (`core.locks`): the new slot's doctor shared, the old appointment, both slots (in
    key order), the patient; the move and the booking are re-checked under them.
    """
    old = Appointment.objects.select_related("doctor").get(pk=appointment_id)
    transition_check(appointment=old, action=Action.RESCHEDULE, actor=actor, now=timezone.now())
    new_slot = _slot_bookable_check(slot_id=slot_id)
    with _locking_transaction():
        doctor = doctor_share_lock(doctor_id=new_slot.doctor_id)
        old = appointment_lock(appointment_id=old.pk)
        slots = slots_lock(Slot.objects.filter(pk__in=[new_slot.pk, old.slot_id]))
        new_slot = _slot_free_check(next((s for s in slots if s.pk == new_slot.pk), None))
        patient = patient_lock(patient_id=old.patient_id)
        was_confirmed = old.status == AppointmentStatus.CONFIRMED
        old = _transition_apply(
            appointment=old, action=Action.RESCHEDULE, actor=actor, note="Moved to another slot."
        )
        return _booking_write(
            actor=actor,
            doctor=doctor,
            patient=patient,
            slot=new_slot,
            reason=old.reason if reason is None else reason,
            rescheduled_from=old,
            keep_confirmed=was_confirmed,
        )


def doctor_blacklist_with_cancellations(
    *, doctor: Doctor, reason: str, cancel_upcoming: bool, actor: User
) -> Doctor:
    """Blacklist a doctor (`doctors.services.doctor_blacklist`) and, with `cancel_upcoming`,
    cancel their future pending and confirmed appointments through the transition function,
    in the same transaction (history rows for each).

    Locks (`core.locks`): the doctor, their upcoming appointments, those appointments' slots.
    """
    with _locking_transaction():
        doctor = doctor_blacklist(doctor=doctor, reason=reason)
        if cancel_upcoming:
            upcoming = appointments_lock(
                Appointment.objects.filter(
                    doctor=doctor, status__in=ACTIVE_STATUSES, start__gt=timezone.now()
                )
            )
            slots_lock(Slot.objects.filter(pk__in=[a.slot_id for a in upcoming]))
            for appointment in upcoming:
                _transition_apply(
                    appointment=appointment,
                    action=Action.CANCEL,
                    actor=actor,
                    note="Cancelled because the doctor is no longer available.",
                )
    return doctor


def feedback_submit(
    *, appointment_id: UUID, actor: User, rating: int, comments: str = ""
) -> Feedback:
    """The patient's rating (1-5) of their completed appointment, once.

    Only the appointment's patient (403 for the others who can see it); only when
    `completed` (409 `invalid_transition`); once (409 `duplicate_feedback`, also when two
    arrive at once: the unique constraint decides). The doctor's `rating` becomes the mean of
    all their ratings: the doctor's row is locked (`core.locks`) while it is recomputed, so
    two patients rating one doctor at once both count.
    """
    appointment = Appointment.objects.get(pk=appointment_id)
    if party_of(actor=actor, appointment=appointment) != Party.PATIENT:
        raise Forbidden("Only the patient of the appointment may rate it.")
    if appointment.status != AppointmentStatus.COMPLETED:
        raise InvalidTransition("Only a completed appointment can be rated.")
    if Feedback.objects.filter(appointment=appointment).exists():
        raise DuplicateFeedback()
    try:
        with locking_transaction():
            doctor = doctor_lock(doctor_id=appointment.doctor_id)
            before = model_values(doctor, ["rating", "rating_count"])
            feedback = Feedback.objects.create(
                appointment=appointment, doctor=doctor, rating=rating, comments=comments
            )
            audit_model_create(
                instance=feedback,
                fields=["appointment", "doctor", "rating", "comments"],
                actor=actor,
            )
            summary = Feedback.objects.filter(doctor=doctor).aggregate(
                mean=Avg("rating"), count=Count("id")
            )
            doctor.rating = Decimal(summary["mean"]).quantize(Decimal("0.01"))
            doctor.rating_count = summary["count"]
            doctor.save(update_fields=["rating", "rating_count", "updated_at"])
            audit_model_update(instance=doctor, before=before, actor=actor)
    except IntegrityError as error:
        if Feedback.objects.filter(appointment=appointment).exists():
            raise DuplicateFeedback() from error
        raise
    return feedback


def penalty_resolve(*, penalty_id: UUID, actor: User) -> Penalty:
    """An admin clears a no-show penalty; it no longer counts against bookings. Locks the
    penalty (`core.locks`), so that two resolutions at once record one."""
    with locking_transaction():
        penalty = penalty_lock(penalty_id=penalty_id)
        if not penalty.resolved:
            penalty.resolved = True
            penalty.resolved_at = timezone.now()
            penalty.resolved_by = actor
            penalty.save(update_fields=["resolved", "resolved_at", "resolved_by"])
            audit_model_update(
                instance=penalty, before={"resolved": False}, action="resolve", actor=actor
            )
    return penalty


def clinical_notes_read_record(*, appointment: Appointment) -> None:
    """Showing an appointment's clinical notes to anyone (API or admin site) is a read of
    clinical data: write it to the audit log. Nothing to record while there are none."""
    if appointment.diagnosis or appointment.treatment_notes:
        audit_record(
            action="read",
            target_type="appointment",
            target_id=appointment.pk,
            changes={"fields": ["diagnosis", "treatment_notes"]},
        )
