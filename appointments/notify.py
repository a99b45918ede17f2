"""What the patient, the doctor and the webhook subscribers are told about an appointment,
written into the outbox (`notifications.services.notification_create`,
`webhooks.services.webhook_event_emit`) in the caller's transaction.

Every booking, move and penalty passes through here once (`appointments.services` books in
`_booking_write` and moves in `_transition_apply`, whichever path asked: the API, the admin
site, the sweeps, a blacklisting), so each emits exactly one webhook event: `appointment.booked`
for a new appointment (a reschedule's new one included, with `rescheduled_from`),
`appointment.<status>` for a move, `penalty.created` for a penalty. Event data are ids,
statuses, times and links: never the reason, notes, diagnosis or insurance.

The patient hears of every status change of their appointment; the doctor of a new booking,
a cancellation and a reschedule; the patient gets a reminder at each of their lead times
before a confirmed appointment and one email about a no-show. Every time is written in the
reader's own zone (`User.time_zone`), named. Titles and bodies name people and times only:
never the reason for the visit, a diagnosis, notes, insurance or allergies (protected health
information does not travel by email).
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.urls import reverse

from accounts.models import User
from appointments.models import Appointment, AppointmentStatus, Penalty
from core.clinic_time import zone_named
from core.durations import duration_format
from core.statements import RowWrites
from notifications.models import Notification, NotificationKind
from notifications.services import (
    notification_build,
    notification_create,
    notification_withdraw,
    notifications_queue,
)
from webhooks.models import EventType
from webhooks.services import deliveries_queue, webhook_event_emit, webhook_event_rows


def reminder_key(appointment_id: UUID, lead_time: timedelta) -> str:
    """One reminder per appointment and lead time, ever: the outbox's unique `dedupe_key`."""
    return f"reminder:{appointment_id}:{duration_format(lead_time)}"


def no_show_key(appointment_id: UUID) -> str:
    return f"no_show:{appointment_id}"


def late_cancellation_key(appointment_id: UUID) -> str:
    return f"late_cancellation:{appointment_id}"


def reader_time(at: datetime, reader: User) -> str:
    """`at` as `reader` reads it: in their zone, which is named (a patient abroad, a clinic
    at home, and nobody arrives an hour early)."""
    local = at.astimezone(zone_named(reader.time_zone))
    return f"{local:%A} {local.day} {local:%B %Y at %H:%M} ({reader.time_zone} time)"


def _doctor_name(appointment: Appointment) -> str:
    return f"Dr {appointment.doctor.user.get_full_name() or appointment.doctor.user.username}"


def _patient_name(appointment: Appointment) -> str:
    return appointment.patient.user.get_full_name() or appointment.patient.user.username


def _tell(
    appointment: Appointment,
    recipient: User,
    kind: str,
    title: str,
    body: str,
    dedupe_key: str | None = None,
) -> Notification | None:
    return notification_create(
        recipient=recipient,
        kind=kind,
        appointment_id=appointment.pk,
        title=title,
        body=body,
        dedupe_key=dedupe_key,
    )


def instant_text(at: datetime | None) -> str | None:
    """An instant as webhook payloads write it: RFC 3339 in UTC with `Z`."""
    return at.isoformat().replace("+00:00", "Z") if at else None


def _appointment_link(appointment: Appointment) -> str:
    path = reverse("appointment-detail", kwargs={"pk": appointment.pk})
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def _appointment_data(appointment: Appointment) -> dict:
    """An appointment as webhook subscribers see it: ids, status, times and its link."""
    return {
        "id": str(appointment.pk),
        "status": appointment.status,
        "patient": str(appointment.patient_id),
        "doctor": str(appointment.doctor_id),
        "slot": str(appointment.slot_id) if appointment.slot_id else None,
        "start": instant_text(appointment.start),
        "end": instant_text(appointment.end),
        "rescheduled_from": str(appointment.rescheduled_from_id)
        if appointment.rescheduled_from_id
        else None,
        "is_override": appointment.is_override,
        "updated_at": instant_text(appointment.updated_at),
        "links": {"self": _appointment_link(appointment)},
    }


def booking_notify(
    *, appointment: Appointment, endpoint_ids: Sequence[UUID], writes: RowWrites
) -> None:
    """A new booking (or the new appointment of a reschedule): the patient, the doctor, and
    the subscribers of `appointment.booked` (`endpoint_ids`), as rows added to the booking's
    one statement (`writes`, which must have prepared the appointment) and queued for one
    publish at its commit (a write that fails rolls back the transaction, and the publish
    with it)."""
    doctor, patient = _doctor_name(appointment), _patient_name(appointment)
    patient_user, doctor_user = appointment.patient.user, appointment.doctor.user
    waits = appointment.status == AppointmentStatus.PENDING
    notifications = [
        notification_build(
            recipient=patient_user,
            kind=NotificationKind.BOOKED,
            appointment_id=appointment.pk,
            title="Appointment requested" if waits else "Appointment booked",
            body=f"Your appointment with {doctor} on "
            f"{reader_time(appointment.start, patient_user)} is booked"
            + (f" and waits for {doctor} to confirm it." if waits else " and confirmed.")
            + _cutoff_words(appointment, patient_user),
        ),
        notification_build(
            recipient=doctor_user,
            kind=NotificationKind.BOOKED,
            appointment_id=appointment.pk,
            title="New booking",
            body=f"{patient} booked an appointment with you on "
            f"{reader_time(appointment.start, doctor_user)}"
            + (": it waits for your confirmation." if waits else "."),
        ),
    ]
    writes.insert(*notifications)
    notifications_queue(notifications)
    if endpoint_ids:
        event, deliveries = webhook_event_rows(
            type=EventType.APPOINTMENT_BOOKED,
            data={"appointment": _appointment_data(appointment)},
            endpoint_ids=endpoint_ids,
        )
        writes.insert(event, *deliveries)
        deliveries_queue(deliveries)


def _cutoff_words(appointment: Appointment, reader: User) -> str:
    """The cancellation policy, in words, where the doctor has a cutoff (empty otherwise)."""
    cancel_by, reschedule_by = appointment.cancel_by, appointment.reschedule_by
    if cancel_by == appointment.start and reschedule_by == appointment.start:
        return ""
    late = (
        "is not possible online"
        if settings.LATE_CANCELLATION_POLICY == "refuse"
        else "counts as a late cancellation and records a penalty"
    )
    if cancel_by == reschedule_by:
        until = f"You can cancel or move it online until {reader_time(cancel_by, reader)}"
    else:
        until = (
            f"You can cancel it online until {reader_time(cancel_by, reader)} and move it until "
            f"{reader_time(reschedule_by, reader)}"
        )
    return f" {until}; after that, a change {late}."


def _patient_message(appointment: Appointment, from_status: str, actor: User | None):
    """(kind, title, body, dedupe key) of what the patient is told about the move just made."""
    doctor = _doctor_name(appointment)
    when = reader_time(appointment.start, appointment.patient.user)
    match appointment.status:
        case AppointmentStatus.CONFIRMED:
            return (
                NotificationKind.STATUS_CHANGED,
                "Appointment confirmed",
                f"{doctor} confirmed your appointment on {when}.",
                None,
            )
        case AppointmentStatus.REJECTED:
            return (
                NotificationKind.STATUS_CHANGED,
                "Appointment request declined",
                f"{doctor} could not take your appointment request for {when}. "
                "You are welcome to book another time.",
                None,
            )
        case AppointmentStatus.CANCELLED:
            why = ""
            if actor is None:  # the sweep's two cancellations (appointments.transitions)
                why = (
                    " because it was not confirmed in time"
                    if from_status == AppointmentStatus.PENDING
                    else " because the doctor was not available"
                )
            return (
                NotificationKind.CANCELLED,
                "Appointment cancelled",
                f"Your appointment with {doctor} on {when} was cancelled{why}.",
                None,
            )
        case AppointmentStatus.RESCHEDULED:
            return (
                NotificationKind.RESCHEDULED,
                "Appointment moved",
                f"Your appointment with {doctor} on {when} was moved to another time; "
                "a separate message gives the new one.",
                None,
            )
        case AppointmentStatus.COMPLETED:
            return (
                NotificationKind.STATUS_CHANGED,
                "Appointment completed",
                f"Your appointment with {doctor} on {when} is complete. "
                "You can rate it in the app.",
                None,
            )
        case AppointmentStatus.NO_SHOW:
            return (
                NotificationKind.NO_SHOW,
                "Missed appointment",
                f"You did not attend your appointment with {doctor} on {when}, so a no-show "
                f"penalty was recorded. With {settings.NO_SHOW_PENALTY_LIMIT} unresolved "
                "penalties, online booking stops until the clinic resolves them.",
                no_show_key(appointment.pk),
            )
    raise ValueError(f"No message for a move to {appointment.status}.")


def status_change_notify(*, appointment: Appointment, from_status: str, actor: User | None) -> None:
    """One move of an appointment: the patient always; the doctor on a cancellation and a
    reschedule; the subscribers of `appointment.<new status>`. An appointment that stops
    being confirmed loses the reminders that have not gone out yet (a moved one's new
    appointment has reminders of its own)."""
    webhook_event_emit(
        type=f"appointment.{appointment.status}",
        data={
            "appointment": _appointment_data(appointment),
            "previous_status": from_status,
        },
    )
    kind, title, body, dedupe_key = _patient_message(appointment, from_status, actor)
    _tell(appointment, appointment.patient.user, kind, title, body, dedupe_key)
    patient = _patient_name(appointment)
    when = reader_time(appointment.start, appointment.doctor.user)
    if appointment.status == AppointmentStatus.CANCELLED:
        _tell(
            appointment,
            appointment.doctor.user,
            NotificationKind.CANCELLED,
            "Appointment cancelled",
            f"The appointment with {patient} on {when} was cancelled; the slot is free again.",
        )
    elif appointment.status == AppointmentStatus.RESCHEDULED:
        _tell(
            appointment,
            appointment.doctor.user,
            NotificationKind.RESCHEDULED,
            "Appointment moved",
            f"The appointment with {patient} on {when} was moved to another time.",
        )
    if from_status == AppointmentStatus.CONFIRMED:
        notification_withdraw(appointment_id=appointment.pk, kind=NotificationKind.REMINDER)


def late_cancellation_notify(*, appointment: Appointment) -> Notification | None:
    """The patient's email about the penalty their late cancel or reschedule recorded."""
    doctor, patient_user = _doctor_name(appointment), appointment.patient.user
    return _tell(
        appointment,
        patient_user,
        NotificationKind.LATE_CANCELLATION,
        "Late cancellation",
        f"Your appointment with {doctor} on {reader_time(appointment.start, patient_user)} "
        "was changed after the cancellation cutoff, so a late-cancellation penalty was "
        f"recorded. With {settings.NO_SHOW_PENALTY_LIMIT} unresolved penalties, online booking "
        "stops until the clinic resolves them.",
        late_cancellation_key(appointment.pk),
    )


def penalty_notify(*, penalty: Penalty) -> None:
    """A new penalty, a no-show's or a late cancellation's: the subscribers of
    `penalty.created` (the patient's email is the move's own, or `late_cancellation_notify`)."""
    webhook_event_emit(
        type=EventType.PENALTY_CREATED,
        data={
            "penalty": {
                "id": str(penalty.pk),
                "patient": str(penalty.patient_id),
                "appointment": str(penalty.appointment_id),
                "created_at": instant_text(penalty.created_at),
                "kind": penalty.kind,
                "resolved": penalty.resolved,
            },
            "appointment": _appointment_data(penalty.appointment),
        },
    )


def reminder_notify(*, appointment: Appointment, lead_time: timedelta) -> Notification | None:
    """The patient's reminder of a confirmed appointment at one lead time; None if that one
    exists already."""
    patient_user = appointment.patient.user
    return _tell(
        appointment,
        patient_user,
        NotificationKind.REMINDER,
        "Appointment reminder",
        f"A reminder of your appointment with {_doctor_name(appointment)} on "
        f"{reader_time(appointment.start, patient_user)}.",
        reminder_key(appointment.pk, lead_time),
    )
