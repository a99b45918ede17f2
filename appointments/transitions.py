"""The appointment state machine (docs/api.md, "The appointment lifecycle"): which move each
action makes, from which statuses, by whom, and when. `appointment_transition` in services is
its only writer.

```
pending   -> confirmed (doctor, admin) | rejected (doctor, admin) | cancelled | rescheduled
confirmed -> completed (doctor, admin; once started)
           | no_show (doctor, admin, or the sweep; once ended) | cancelled | rescheduled
```
`cancelled`: the patient (before the start), the doctor, an admin, or the sweep (a pending
appointment not confirmed in time). `rescheduled`: the patient (before the start) or an admin.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from accounts.models import User
from appointments.exceptions import InvalidTransition
from appointments.models import Appointment, AppointmentStatus
from core.errors import Forbidden

PENDING, CONFIRMED = AppointmentStatus.PENDING, AppointmentStatus.CONFIRMED


class Action(StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"
    COMPLETE = "complete"
    NO_SHOW = "no_show"


class Party(StrEnum):
    """Who is acting, as far as one appointment is concerned."""

    PATIENT = "patient"
    DOCTOR = "doctor"
    ADMIN = "admin"
    SYSTEM = "system"


class When(StrEnum):
    ANY = "any time"
    BEFORE_START = "before the start"
    STARTED = "once started"
    ENDED = "once ended"


@dataclass(frozen=True)
class Move:
    sources: frozenset[str]
    target: str
    # Each party that may make the move, and from when.
    parties: dict[Party, When]


TRANSITIONS: dict[Action, Move] = {
    Action.CONFIRM: Move(
        frozenset({PENDING}), CONFIRMED, {Party.DOCTOR: When.ANY, Party.ADMIN: When.ANY}
    ),
    Action.REJECT: Move(
        frozenset({PENDING}),
        AppointmentStatus.REJECTED,
        {Party.DOCTOR: When.ANY, Party.ADMIN: When.ANY},
    ),
    Action.CANCEL: Move(
        frozenset({PENDING, CONFIRMED}),
        AppointmentStatus.CANCELLED,
        {
            Party.PATIENT: When.BEFORE_START,
            Party.DOCTOR: When.ANY,
            Party.ADMIN: When.ANY,
            Party.SYSTEM: When.ANY,
        },
    ),
    Action.RESCHEDULE: Move(
        frozenset({PENDING, CONFIRMED}),
        AppointmentStatus.RESCHEDULED,
        {Party.PATIENT: When.BEFORE_START, Party.ADMIN: When.ANY},
    ),
    Action.COMPLETE: Move(
        frozenset({CONFIRMED}),
        AppointmentStatus.COMPLETED,
        {Party.DOCTOR: When.STARTED, Party.ADMIN: When.STARTED},
    ),
    Action.NO_SHOW: Move(
        frozenset({CONFIRMED}),
        AppointmentStatus.NO_SHOW,
        {Party.DOCTOR: When.ENDED, Party.ADMIN: When.ENDED, Party.SYSTEM: When.ENDED},
    ),
}


def party_of(*, actor: User | None, appointment: Appointment) -> Party | None:
    """The actor's part in this appointment; None for someone with no part in it."""
    if actor is None:
        return Party.SYSTEM
    if actor.is_admin:
        return Party.ADMIN
    if actor.is_doctor and actor.pk == appointment.doctor_id:
        return Party.DOCTOR
    if actor.is_patient and actor.pk == appointment.patient_id:
        return Party.PATIENT
    return None


def _in_time(when: When, appointment: Appointment, now: datetime) -> bool:
    return {
        When.ANY: True,
        When.BEFORE_START: now < appointment.start,
        When.STARTED: now >= appointment.start,
        When.ENDED: now >= appointment.end,
    }[when]


def transition_check(
    *, appointment: Appointment, action: Action, actor: User | None, now: datetime
) -> Move:
    """The move `action` makes, if `actor` may make it on `appointment` now.

    A party the table never allows this action answers 403 (they can see the appointment but
    may not act on it); an allowed party at the wrong status or time answers 409
    `invalid_transition`.
    """
    move = TRANSITIONS[action]
    party = party_of(actor=actor, appointment=appointment)
    when = move.parties.get(party)
    if when is None:
        raise Forbidden(f"You may not {action.replace('_', '-')} this appointment.")
    if appointment.status not in move.sources:
        raise InvalidTransition(
            f"A {appointment.status} appointment cannot be moved to {move.target}."
        )
    if not _in_time(when, appointment, now):
        raise InvalidTransition(f"This move is allowed {when.value} only.")
    return move
