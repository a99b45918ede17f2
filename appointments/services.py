"""Writes about appointments: booking (and, with the lifecycle, every status change).

Locking, the same in every service here so that no two of them can deadlock: the slot first,
then the patient, then a shared lock on the doctor's row; every transaction sets a short
`lock_timeout` (`BOOKING_LOCK_TIMEOUT_MS`), and a wait past it answers 503 with Retry-After.
Rules are checked cheaply before any lock, then checked again under the locks, because
another transaction may have changed the answer meanwhile. The database's constraints are
the last word: a violation that slips past the checks becomes the same 409 as the check.
"""

from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from accounts.models import User
from appointments.exceptions import (
    BeyondBookingHorizon,
    DoctorUnavailable,
    LeadTimeViolation,
    PatientConflict,
    SlotUnavailable,
)
from appointments.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    AppointmentStatusChange,
)
from config.db import lock_timeout_set, violated_constraint
from doctors.models import Doctor
from patients.models import Patient
from scheduling.exceptions import SlotInPast
from scheduling.models import AvailabilityWindow, Slot
from scheduling.selectors import slot_is_closed

MAX_OVERRIDE_LENGTH = timedelta(hours=24)

_CONSTRAINT_ERRORS = {
    "appointments_one_active_per_slot": SlotUnavailable,
    "appointments_doctor_no_overlap": SlotUnavailable,
    "appointments_patient_no_overlap": PatientConflict,
    "scheduling_window_no_overlap": SlotUnavailable,
    "scheduling_slot_no_overlap": SlotUnavailable,
}


@contextmanager
def _locking_transaction():
    """A transaction with the short lock timeout, whose constraint violations become the
    domain errors the checks would have raised."""
    try:
        with transaction.atomic():
            lock_timeout_set(settings.BOOKING_LOCK_TIMEOUT_MS)
            yield
    except IntegrityError as error:
        domain_error = _CONSTRAINT_ERRORS.get(violated_constraint(error))
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


def _doctor_share_lock(*, doctor_id) -> Doctor:
    """Read the doctor's standing under a shared row lock: bookings of one doctor do not wait
    for each other, but a blacklisting (which locks the row for update) waits for them, and
    they for it, so none lands for a doctor just blacklisted."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {Doctor._meta.db_table} WHERE user_id = %s FOR SHARE",  # noqa: S608
            [doctor_id],
        )
    return Doctor.objects.get(pk=doctor_id)


def _patient_lock(*, patient: Patient) -> Patient:
    return Patient.objects.select_for_update(of=("self",)).get(pk=patient.pk)


def _patient_overlap_exists(*, patient: Patient, start: datetime, end: datetime) -> bool:
    return Appointment.objects.filter(
        patient=patient, status__in=ACTIVE_STATUSES, start__lt=end, end__gt=start
    ).exists()


def status_change_record(
    *, appointment: Appointment, from_status: str, actor: User | None, note: str = ""
) -> AppointmentStatusChange:
    return AppointmentStatusChange.objects.create(
        appointment=appointment,
        from_status=from_status,
        to_status=appointment.status,
        actor=actor,
        at=timezone.now(),
        note=note,
    )


def _booking_write(
    *,
    actor: User,
    patient: Patient,
    slot: Slot,
    reason: str,
    rescheduled_from: Appointment | None = None,
    is_override: bool = False,
) -> Appointment:
    """Re-check under the locks (slot and patient held by the caller) and write the
    appointment, the slot's booked mark and the first history row."""
    if slot.is_booked:
        raise SlotUnavailable(attr="slot")
    if not is_override and slot_is_closed(slot=slot):
        raise SlotUnavailable("The doctor is not available at that time.", attr="slot")
    doctor = _doctor_share_lock(doctor_id=slot.doctor_id)
    if doctor.is_blacklisted:
        raise DoctorUnavailable()
    if _patient_overlap_exists(patient=patient, start=slot.start, end=slot.end):
        raise PatientConflict()
    appointment = Appointment.objects.create(
        patient=patient,
        doctor=doctor,
        slot=slot,
        start=slot.start,
        end=slot.end,
        status=AppointmentStatus.PENDING
        if doctor.requires_approval
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
    return appointment


def _slot_bookable_check(*, slot_id) -> Slot:
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


def _slot_lock(*, slot_id) -> Slot:
    slot = Slot.objects.select_for_update(of=("self",)).filter(pk=slot_id).first()
    if slot is None:  # its window was removed since the cheap check
        raise SlotUnavailable("There is no such slot.", attr="slot")
    return slot


def appointment_book(*, actor: User, patient: Patient, slot_id, reason: str = "") -> Appointment:
    """Book a free slot for a patient.

    Rules, each with its API code: the slot exists and is free (`slot_unavailable`), has not
    started (`slot_in_past`), starts after the lead time (`lead_time_violation`) and within the
    horizon (`beyond_booking_horizon`); its doctor is not blacklisted (`doctor_unavailable`);
    the patient holds no active appointment overlapping it (`patient_conflict`). The new
    appointment is `pending`, or `confirmed` when the doctor does not require approval.

    Locks, in one transaction: the slot, then the patient (`select_for_update`), then a shared
    lock on the doctor; everything is re-checked under them before writing.
    """
    slot = _slot_bookable_check(slot_id=slot_id)
    with _locking_transaction():
        slot = _slot_lock(slot_id=slot.pk)
        patient = _patient_lock(patient=patient)
        return _booking_write(actor=actor, patient=patient, slot=slot, reason=reason)


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
    doctor or the patient (`patient_conflict`). Locks as `appointment_book`.
    """
    if end <= start:
        raise ValidationError({"end": ["The end must be after the start."]})
    if end - start > MAX_OVERRIDE_LENGTH:
        raise ValidationError({"end": ["An appointment may be at most 24 hours long."]})
    if start <= timezone.now():
        raise SlotInPast(attr="start")
    if doctor.is_blacklisted:
        raise DoctorUnavailable()
    with _locking_transaction():
        if AvailabilityWindow.objects.filter(doctor=doctor, start__lt=end, end__gt=start).exists():
            raise SlotUnavailable(
                "This overlaps the doctor's published availability: book one of its slots."
            )
        window = AvailabilityWindow.objects.create(
            doctor=doctor, start=start, end=end, is_override=True
        )
        slot = Slot.objects.create(doctor=doctor, window=window, start=start, end=end)
        patient = _patient_lock(patient=patient)
        return _booking_write(
            actor=actor, patient=patient, slot=slot, reason=reason, is_override=True
        )
