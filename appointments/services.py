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

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError
from django.db.models import Avg, Count
from django.utils import timezone

from accounts.models import User
from appointments import notify
from appointments.exceptions import (
    AppointmentLimitReached,
    BeyondBookingHorizon,
    BookingRestricted,
    ClinicClosed,
    DoctorUnavailable,
    DuplicateFeedback,
    InsideCutoff,
    InvalidTransition,
    LeadTimeViolation,
    PatientConflict,
    SeriesConflict,
    SlotHeld,
    SlotUnavailable,
)
from appointments.locks import (
    LockedPatient,
    appointment_lock,
    appointments_lock,
    patient_lock,
    patient_lock_statement,
    patient_locked_check,
    penalty_lock,
    series_lock,
)
from appointments.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentSeries,
    AppointmentStatus,
    AppointmentStatusChange,
    Feedback,
    Penalty,
    PenaltyKind,
    SeriesStatus,
)
from appointments.selectors import PatientActiveCounts, patient_active_counts_statement
from appointments.transitions import (
    CALLED_OFF,
    Action,
    Party,
    move_late,
    party_of,
    transition_check,
)
from audit.models import AuditLog
from audit.services import (
    CHANGED,
    audit_entry,
    audit_model_create,
    audit_model_update,
    audit_record,
    model_values,
)
from core.clinic_time import clinic_zone, wall_time_occurrence
from core.db import violated_constraint
from core.errors import DomainError, EndNotAfterStart, FieldInvalid, Forbidden
from core.locks import locking_transaction
from core.statements import RowWrites, Statement, statements_run
from doctors.locks import doctor_lock, doctor_share_lock, doctor_share_lock_statement
from doctors.models import Doctor
from doctors.services import doctor_blacklist
from patients.models import Patient
from scheduling.exceptions import SlotInPast
from scheduling.locks import doctor_schedule_lock, slot_lock_statement, slots_lock
from scheduling.models import AvailabilityWindow, Slot
from scheduling.selectors import slot_closures_statement, slot_with_doctor_standing_statement
from scheduling.services import schedule_reach_check, window_delete
from scheduling.signals import slots_opened
from webhooks.models import EventType
from webhooks.services import webhook_endpoints_wanting_statement

MAX_OVERRIDE_LENGTH = timedelta(hours=24)

_CONSTRAINT_ERRORS = {
    "appointments_one_active_per_slot": SlotUnavailable,
    "appointments_doctor_no_overlap": SlotUnavailable,
    "appointments_patient_no_overlap": PatientConflict,
    "scheduling_window_no_overlap": SlotUnavailable,
    "scheduling_slot_no_overlap": SlotUnavailable,
    # The trigger of waitlist migration 0002: the slot is held for another patient's offer.
    "waitlist_slot_held": SlotHeld,
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


def status_change_rows(
    *, appointment: Appointment, from_status: str, actor: User | None, note: str = ""
) -> tuple[AppointmentStatusChange, AuditLog]:
    """The history row of a move and its audit entry, not yet written: `create` for the
    booking (marked `override` when outside published availability), `transition` for every
    later move. The entry says only that the move had a note, never what it said."""
    change = AppointmentStatusChange(
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
    entry = audit_entry(
        action="create" if not from_status else "transition",
        target_type="appointment",
        target_id=appointment.pk,
        changes=details,
        actor=actor,
    )
    return change, entry


def status_change_record(
    *, appointment: Appointment, from_status: str, actor: User | None, note: str = ""
) -> None:
    """Write the history row of a move and its audit entry (`status_change_rows`)."""
    writes = RowWrites()
    writes.insert(
        *status_change_rows(
            appointment=appointment, from_status=from_status, actor=actor, note=note
        )
    )
    writes.run()


def _booking_reads(*, patient_id: UUID, slot_ids: Sequence[UUID]) -> list[Statement[Any]]:
    """What a booking reads after its locks, as statements to send in one round trip (with
    the locks, or alone): the patient's active appointments (`patient_active_counts_statement`),
    which slots are closed (`slot_closures_statement`; an override ignores them) and the
    webhook endpoints wanting `appointment.booked`, in that order."""
    return [
        patient_active_counts_statement(
            patient_id=patient_id, slot_ids=slot_ids, now=timezone.now()
        ),
        slot_closures_statement(slot_ids=slot_ids),
        webhook_endpoints_wanting_statement(type=EventType.APPOINTMENT_BOOKED),
    ]


def _bookings_check(
    *,
    actor: User,
    doctor: Doctor,
    patient: LockedPatient,
    slots: Sequence[Slot],
    counts: PatientActiveCounts,
    closures: dict[Any, str],
) -> list[DomainError | None]:
    """Every rule of booking `slots` (locked, free, of `doctor`) for `patient`, checked under
    the locks the caller holds (the doctor shared, the slots, the patient) on what is there
    now: `counts` and `closures` are `_booking_reads`, read after those locks. The single
    booking and the series both book through here.

    Rules about the whole request are raised: the patient's own limits for all of `slots`
    at once (`_booking_restriction_check`) and the doctor's standing (`doctor_unavailable`).
    Rules about one slot are answered per slot, None where it may be booked: a clinic holiday
    on its day (`ClinicClosed`), the doctor's time off over it (`DoctorUnavailable`), neither
    for an override (its hour is the admin's choice: the caller passes no closures), and an active
    appointment of the patient overlapping it (`PatientConflict`)."""
    _booking_restriction_check(
        actor=actor, patient=patient, upcoming=counts.upcoming, adding=len(slots)
    )
    if doctor.is_blacklisted:
        raise DoctorUnavailable()
    problems: list[DomainError | None] = []
    for slot in slots:
        closure = closures.get(slot.pk)
        if closure == "holiday":
            problems.append(ClinicClosed())
        elif closure == "time_off":
            problems.append(DoctorUnavailable("The doctor is away at that time."))
        elif slot.pk in counts.overlapping:
            problems.append(PatientConflict())
        else:
            problems.append(None)
    return problems


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
    read: list[Any] | None = None,
) -> Appointment:
    """Book one slot: re-check it under the locks the caller holds (`_bookings_check`) and
    write it (`_appointment_write`). `read` is what the caller already read after its locks
    (`_booking_reads`); otherwise it is read here, in one round trip. A closed hour is
    answered as `slot_unavailable`, as API.md has it for a single booking (a series names the
    closure). The new appointment of a reschedule stays in the old one's series."""
    if read is None:
        read = statements_run(*_booking_reads(patient_id=patient.pk, slot_ids=[slot.pk]))
    counts, closures, endpoint_ids = read
    [problem] = _bookings_check(
        actor=actor,
        doctor=doctor,
        patient=patient,
        slots=[slot],
        counts=counts,
        closures={} if is_override else closures,
    )
    if isinstance(problem, ClinicClosed | DoctorUnavailable):
        raise SlotUnavailable("The doctor is not available at that time.", attr="slot")
    if problem is not None:
        raise problem
    return _appointment_write(
        actor=actor,
        doctor=doctor,
        patient=patient,
        slot=slot,
        reason=reason,
        series_id=rescheduled_from.series_id if rescheduled_from else None,
        rescheduled_from=rescheduled_from,
        keep_confirmed=keep_confirmed,
        is_override=is_override,
        endpoint_ids=endpoint_ids,
    )


def _appointment_write(
    *,
    actor: User,
    doctor: Doctor,
    patient: Patient,
    slot: Slot,
    reason: str,
    series_id: UUID | None = None,
    rescheduled_from: Appointment | None = None,
    keep_confirmed: bool = False,
    is_override: bool = False,
    endpoint_ids: Sequence[UUID],
) -> Appointment:
    """Write a checked booking in one statement (`core.statements.RowWrites`): the
    appointment, the slot's booked mark, the first history row and its audit entry, the
    notifications of the patient and the doctor and the `appointment.booked` event for
    `endpoint_ids` (`_booking_reads`), all queued in one publish after the commit.

    The appointment is `pending` when the doctor requires approval, unless it replaces a
    confirmed one (`keep_confirmed`, a reschedule): that stays confirmed. The database's
    constraints and triggers check the rows as the statement writes them."""
    appointment = Appointment(
        patient=patient,
        doctor=doctor,
        slot=slot,
        start=slot.start,
        end=slot.end,
        status=AppointmentStatus.PENDING
        if doctor.requires_approval and not keep_confirmed
        else AppointmentStatus.CONFIRMED,
        reason=reason,
        series_id=series_id,
        rescheduled_from=rescheduled_from,
        is_override=is_override,
        created_by=actor,
    )
    writes = RowWrites()
    writes.insert(appointment)
    writes.update(Slot, slot.pk, is_booked=True)
    slot.is_booked = True
    writes.insert(
        *status_change_rows(
            appointment=appointment,
            from_status="",
            actor=actor,
            note="Booked outside published availability." if is_override else "",
        )
    )
    notify.booking_notify(appointment=appointment, endpoint_ids=endpoint_ids, writes=writes)
    writes.run()
    return appointment


def _booking_restriction_check(
    *, actor: User, patient: LockedPatient, upcoming: int, adding: int
) -> None:
    """Limits on a patient booking for themselves (an admin may still book for them):
    `NO_SHOW_PENALTY_LIMIT` unresolved no-show penalties (403 `booking_restricted`), and at
    most `MAX_ACTIVE_APPOINTMENTS_PER_PATIENT` active appointments to come once the `adding`
    new ones are booked (a series counts whole), so that no one hoards a clinic's slots (409
    `appointment_limit_reached`). Checked under the patient's lock only (`patient_lock`,
    `_booking_reads`), where their appointments cannot grow underneath."""
    if actor.is_admin:
        return
    if patient.unresolved_penalties >= settings.NO_SHOW_PENALTY_LIMIT:
        raise BookingRestricted()
    if upcoming + adding > settings.MAX_ACTIVE_APPOINTMENTS_PER_PATIENT:
        raise AppointmentLimitReached()


def _slot_bookable_check(*, slot_id: UUID) -> Slot:
    """The cheap checks, without locks: the slot exists and its time and doctor allow it."""
    found = slot_with_doctor_standing_statement(slot_id=slot_id).run()
    if found is None:
        raise SlotUnavailable("There is no such slot.", attr="slot")
    slot, doctor_blacklisted = found
    _booking_time_check(start=slot.start)
    if doctor_blacklisted:
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
    the patient holds no active appointment overlapping it (`patient_conflict`); it is not held
    for another patient by a waitlist offer (`slot_held`, refused by the database); a patient
    booking for themselves has fewer than `NO_SHOW_PENALTY_LIMIT` unresolved no-show
    penalties (403 `booking_restricted`). The new
    appointment is `pending`, or `confirmed` when the doctor does not require approval.

    Checked first without locks (`_slot_bookable_check`: a slot already taken answers 409
    from one statement, waiting for no lock). Then two round trips in one transaction
    (bench/README.md, "`POST /appointments/`"): the locks (`core.locks`: the doctor shared,
    the slot, the patient) and every read the rules need after them, sent together
    (`core.statements.statements_run`), so PostgreSQL takes the locks in that order and reads
    after them; then, every rule checked again in Python on what is there now, the writes as
    one statement (`_appointment_write`).
    """
    slot = _slot_bookable_check(slot_id=slot_id)
    with _locking_transaction():
        doctor, locked_slot, locked_patient, *read = statements_run(
            doctor_share_lock_statement(doctor_id=slot.doctor_id),
            slot_lock_statement(slot_id=slot_id),
            patient_lock_statement(patient_id=patient.pk),
            *_booking_reads(patient_id=patient.pk, slot_ids=[slot_id]),
        )
        return _booking_write(
            actor=actor,
            doctor=doctor,
            patient=patient_locked_check(locked_patient),
            slot=_slot_free_check(locked_slot),
            reason=reason,
            read=read,
        )


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


def _series_starts(
    *, first: datetime, every_weeks: int, count: int | None, until: date | None
) -> list[tuple[date, datetime | None]]:
    """The clinic-local day and start of each visit of a series: the first's, then every
    `every_weeks` weeks at the same clinic-local wall time (so a series keeps its hour across
    a change of the clocks), `count` visits or through `until`. A start is None on a day when
    the clocks skip that hour. Refuses (400) a series of one visit, of more than
    `SERIES_MAX_OCCURRENCES` or reaching past the booking horizon."""
    local = first.astimezone(clinic_zone())
    step = timedelta(weeks=every_weeks)
    attr = "count" if count is not None else "until"
    if count is None:
        if until is None:
            raise FieldInvalid("Give `count` or `until`.", attr="count")
        if until < local.date():
            raise FieldInvalid("The series cannot end before its first visit.", attr="until")
        count = (until - local.date()) // step + 1
    if count < 2:
        raise FieldInvalid("A series has at least two visits.", attr=attr)
    if count > settings.SERIES_MAX_OCCURRENCES:
        raise FieldInvalid(
            f"A series has at most {settings.SERIES_MAX_OCCURRENCES} visits.", attr=attr
        )
    days = [local.date() + step * index for index in range(count)]
    last = datetime.combine(days[-1], local.time(), tzinfo=clinic_zone())
    if last >= timezone.now() + timedelta(days=settings.BOOKING_HORIZON_DAYS):
        raise BeyondBookingHorizon("The series reaches past the booking horizon.", attr=attr)
    # The first visit is the slot itself (at an hour the clocks repeat, its own of the two).
    return [(days[0], first)] + [(day, wall_time_occurrence(day, local.time())) for day in days[1:]]


def series_book(
    *,
    actor: User,
    patient: Patient,
    slot_id: UUID,
    every_weeks: int,
    count: int | None = None,
    until: date | None = None,
    reason: str = "",
) -> AppointmentSeries:
    """Book a recurring series of visits with the doctor of the slot `slot_id`, all or nothing.

    The visits are the first slot's and then, every `every_weeks` weeks, the doctor's slot
    starting at the same clinic-local weekday and wall time (`_series_starts`), `count` of
    them or through the clinic-local day `until`. Rules: the first slot as for a single booking
    (it exists, its time, its doctor's standing); the rule (400 on `count`/`until`: two visits
    at least, `SERIES_MAX_OCCURRENCES` at most, the last within the booking horizon); a
    patient booking for themselves fits the whole series under their limits
    (`_booking_restriction_check`); then every visit under every rule of a single booking
    (`_bookings_check`). If any visit cannot be booked, none is: 409 `series_conflict` naming
    each such visit's clinic-local date and why (no free slot then, holiday, time off, the
    patient's overlapping appointment). Otherwise each visit is an ordinary appointment of the
    series, with its history row, audit entry and notifications, and the series is audited.

    Locks (`core.locks`): the doctor shared, every visit's slot in one statement in key order
    (two series over common dates lock their common slots in the same order, so one waits
    for the other and never deadlocks), the patient; everything is re-checked under them.
    """
    first = _slot_bookable_check(slot_id=slot_id)
    visits = _series_starts(first=first.start, every_weeks=every_weeks, count=count, until=until)
    starts = [start for _, start in visits if start is not None]
    candidates = Slot.objects.filter(doctor_id=first.doctor_id, start__in=starts)
    with _locking_transaction():
        doctor = doctor_share_lock(doctor_id=first.doctor_id)
        slot_at = {slot.start: slot for slot in slots_lock(candidates)}
        patient = patient_locked_check(patient_lock_statement(patient_id=patient.pk).run())
        problems: dict[date, DomainError] = {}
        free: list[tuple[date, Slot]] = []
        for day, start in visits:
            if start is None:
                problems[day] = SlotUnavailable("The clocks skip that hour that day.")
                continue
            slot = slot_at.get(start)
            if slot is None:
                problems[day] = SlotUnavailable("The doctor has no slot at that time.")
            elif slot.is_booked:
                problems[day] = SlotUnavailable()
            else:
                free.append((day, slot))
        slots = [slot for _, slot in free]
        counts, closures, endpoint_ids = statements_run(
            *_booking_reads(patient_id=patient.pk, slot_ids=[slot.pk for slot in slots])
        )
        checked = _bookings_check(
            actor=actor,
            doctor=doctor,
            patient=patient,
            slots=slots,
            counts=counts,
            closures=closures,
        )
        for (day, _), problem in zip(free, checked, strict=True):
            if problem is not None:
                problems[day] = problem
        if problems:
            raise SeriesConflict(
                (day.isoformat(), problem) for day, problem in sorted(problems.items())
            )
        series = AppointmentSeries.objects.create(
            patient=patient,
            doctor=doctor,
            every_weeks=every_weeks,
            count=count,
            until=until,
            created_by=actor,
        )
        audit_model_create(
            instance=series,
            fields=["patient", "doctor", "every_weeks", "count", "until"],
            actor=actor,
        )
        for _, slot in free:
            _appointment_write(
                actor=actor,
                doctor=doctor,
                patient=patient,
                slot=slot,
                reason=reason,
                series_id=series.pk,
                endpoint_ids=endpoint_ids,
            )
        return series


def series_cancel(
    *,
    series_id: UUID,
    actor: User,
    from_appointment_id: UUID | None = None,
    reason: str = "",
) -> AppointmentSeries:
    """Cancel the visits of a series still to come: all of them (`from_appointment_id` None)
    or the visit `from_appointment_id` and those after it.

    Visits already started, or no longer pending or confirmed, are left as they are, and so
    are those `actor` may not cancel now (a patient inside the doctor's cancel cutoff, where
    the clinic refuses late cancels). Each other visit is cancelled exactly as a single cancel
    would cancel it (the transition table, its history row with `reason` as note, its audit
    entry, its notifications, a late cancel's penalty where the clinic penalises those, its
    slot freed), in one transaction. Rules: `from_appointment_id` is a visit of this series
    (400 on `from`); a caller the table never lets cancel gets 403; something is left that
    the caller may cancel (409 `invalid_transition`, or `inside_cutoff` when the cutoff is
    what stops them). When none of its visits is left pending or confirmed,
    the series becomes `cancelled` (visits cancelled one by one leave it as it is).

    Locks (`core.locks`): the series, then its remaining visits (key order), then the slots
    of those cancelled; a visit moved meanwhile by another request is not in the set once
    the lock is had.
    """
    remaining = Appointment.objects.filter(
        series_id=series_id, status__in=ACTIVE_STATUSES, start__gt=timezone.now()
    )
    if from_appointment_id is not None:
        first = Appointment.objects.filter(series_id=series_id, pk=from_appointment_id).first()
        if first is None:
            raise FieldInvalid("That appointment is not a visit of this series.", attr="from")
        remaining = remaining.filter(start__gte=first.start)
    with _locking_transaction():
        series = series_lock(series_id=series_id)
        due = appointments_lock(remaining)
        cancellable, refusals = [], []
        for appointment in due:
            try:
                transition_check(
                    appointment=appointment, action=Action.CANCEL, actor=actor, now=timezone.now()
                )
            except (InvalidTransition, InsideCutoff) as refusal:
                refusals.append(refusal)
            else:
                cancellable.append(appointment)
        if refusals and not cancellable:
            raise refusals[0]
        if not cancellable:
            raise InvalidTransition("No visit of this series is left to cancel.")
        slots_lock(Slot.objects.filter(pk__in=[a.slot_id for a in cancellable if a.slot_id]))
        for appointment in cancellable:
            _transition_apply(
                appointment=appointment, action=Action.CANCEL, actor=actor, note=reason
            )
        if not series.appointments.filter(status__in=ACTIVE_STATUSES).exists():
            series.status = SeriesStatus.CANCELLED
            series.save(update_fields=["status"])
            audit_model_update(
                instance=series,
                before={"status": SeriesStatus.ACTIVE},
                action="cancel",
                actor=actor,
            )
        return series


def _transition_apply(
    *, appointment: Appointment, action: Action, actor: User | None, note: str = ""
) -> Appointment:
    """Make one move on an appointment the caller has locked: check it against the table on
    the status it has now, write it, free the slot when leaving an active status (the UPDATE
    locks it; a caller moving several appointments locks their slots first) and remove an
    override's window when its visit is called off, record the move, create the penalty of a
    no-show or of the patient's late move (which reaches here only where the clinic penalises
    late moves: `transition_check` refuses them elsewhere) and write the notifications
    (`appointments.notify`), in the caller's transaction. A freed slot is announced
    (`scheduling.signals.slots_opened`: the waitlist may offer it) under its lock, in that
    transaction."""
    now = timezone.now()
    move = transition_check(appointment=appointment, action=action, actor=actor, now=now)
    from_status = appointment.status
    appointment.status = move.target
    appointment.save(update_fields=["status", "updated_at"])
    if from_status in ACTIVE_STATUSES and not appointment.is_active and appointment.slot_id:
        Slot.objects.filter(pk=appointment.slot_id).update(is_booked=False)
        if appointment.is_override and move.target in CALLED_OFF:
            _override_window_remove(appointment)
        else:
            slots_opened.send(sender=Appointment, slot_ids=[appointment.slot_id])
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
    if penalty_kind is not None:
        notify.penalty_notify(penalty=penalty)
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
