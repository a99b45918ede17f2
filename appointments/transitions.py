"""The appointment state machine (docs/api.md, "The appointment lifecycle"): which move each
action makes, from which statuses, by whom, and when. `appointment_transition` in services is
its only writer.

```
pending   -> confirmed (doctor, admin; before the end) | rejected (doctor, admin; before the end)
           | cancelled | rescheduled | cancelled by the sweep once started (expire)
confirmed -> completed (doctor, admin; once started)
           | no_show (doctor, admin, or the sweep; once ended; not for a barred doctor)
           | cancelled | rescheduled | cancelled by the sweep once ended (withdraw; only for a
             barred doctor)
```
`cancelled`: the patient (before the start), the doctor or an admin (before the end).
`rescheduled`: the patient (before the start) or an admin (before the end).
The patient's cancel and reschedule after their doctor's cutoff (`cancel_by`,
`reschedule_by`) are late: refused (409 `inside_cutoff`), or, where the clinic penalises late
moves (`LATE_CANCELLATION_POLICY=penalise`), made with a late-cancellation penalty.

Once an appointment has ended, people only record what happened: completed or no-show;
nobody confirms, rejects, cancels or moves it any more. The sweep has two moves of its own:
it cancels a pending request nobody confirmed by its start ("not confirmed in time"), and a
visit whose doctor the clinic blacklisted before it ended ("the doctor was not available"),
which is never marked a no-show: patients are never penalised for a barred doctor's visits.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from django.conf import settings

from accounts.models import User
from appointments.exceptions import InsideCutoff, InvalidTransition
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
    # The system's own moves (the sweep), never offered to a person.
    EXPIRE = "expire"
    WITHDRAW = "withdraw"


class Party(StrEnum):
    """Who is acting, as far as one appointment is concerned."""

    PATIENT = "patient"
    DOCTOR = "doctor"
    ADMIN = "admin"
    SYSTEM = "system"


class When(StrEnum):
    BEFORE_START = "before the start"
    BEFORE_END = "before the end"
    STARTED = "once started"
    ENDED = "once ended"


class Standing(StrEnum):
    """What a move requires of the appointment's doctor: nothing; to have been in good
    standing until the appointment's end; or to have been blacklisted before it."""

    ANY = "any"
    IN_GOOD_STANDING = "in good standing"
    BARRED = "barred"


@dataclass(frozen=True)
class Move:
    sources: frozenset[str]
    target: str
    # Each party that may make the move, and from when.
    parties: dict[Party, When]
    standing: Standing = Standing.ANY


TRANSITIONS: dict[Action, Move] = {
    Action.CONFIRM: Move(
        frozenset({PENDING}),
        CONFIRMED,
        {Party.DOCTOR: When.BEFORE_END, Party.ADMIN: When.BEFORE_END},
    ),
    Action.REJECT: Move(
        frozenset({PENDING}),
        AppointmentStatus.REJECTED,
        {Party.DOCTOR: When.BEFORE_END, Party.ADMIN: When.BEFORE_END},
    ),
    Action.CANCEL: Move(
        frozenset({PENDING, CONFIRMED}),
        AppointmentStatus.CANCELLED,
        {
            Party.PATIENT: When.BEFORE_START,
            Party.DOCTOR: When.BEFORE_END,
            Party.ADMIN: When.BEFORE_END,
        },
    ),
    Action.RESCHEDULE: Move(
        frozenset({PENDING, CONFIRMED}),
        AppointmentStatus.RESCHEDULED,
        {Party.PATIENT: When.BEFORE_START, Party.ADMIN: When.BEFORE_END},
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
        Standing.IN_GOOD_STANDING,
    ),
    Action.EXPIRE: Move(
        frozenset({PENDING}), AppointmentStatus.CANCELLED, {Party.SYSTEM: When.STARTED}
    ),
    Action.WITHDRAW: Move(
        frozenset({CONFIRMED}),
        AppointmentStatus.CANCELLED,
        {Party.SYSTEM: When.ENDED},
        Standing.BARRED,
    ),
}

# The statuses after which the visit will not take place (whatever moved it there): the hour
# is given back.
CALLED_OFF = frozenset(
    {AppointmentStatus.REJECTED, AppointmentStatus.CANCELLED, AppointmentStatus.RESCHEDULED}
)

_PARTY_NAMES = {
    Party.PATIENT: "the patient",
    Party.DOCTOR: "the doctor",
    Party.ADMIN: "an admin",
    Party.SYSTEM: "the sweep",
}
_STANDING_RULES = {
    Standing.ANY: "",
    Standing.IN_GOOD_STANDING: " Not for a visit whose doctor was blacklisted before it ended: "
    "patients are never penalised for those.",
    Standing.BARRED: " Only for a visit whose doctor was blacklisted before it ended.",
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
        When.BEFORE_START: now < appointment.start,
        When.BEFORE_END: now < appointment.end,
        When.STARTED: now >= appointment.start,
        When.ENDED: now >= appointment.end,
    }[when]


def doctor_barred(appointment: Appointment) -> bool:
    """Whether the appointment's doctor was blacklisted before the appointment ended (and
    still is)."""
    barred_at = appointment.doctor.blacklisted_at
    return barred_at is not None and barred_at < appointment.end


def _standing_holds(standing: Standing, appointment: Appointment) -> bool:
    if standing == Standing.ANY:
        return True
    return doctor_barred(appointment) == (standing == Standing.BARRED)


# The patient's moves that a doctor's cutoff can make late, and the instant each is late after.
_LATE_AFTER = {Action.CANCEL: "cancel_by", Action.RESCHEDULE: "reschedule_by"}


def move_late(
    *, appointment: Appointment, action: Action, actor: User | None, now: datetime
) -> bool:
    """Whether this is the patient's cancel or reschedule after its cutoff instant. Doctors'
    and admins' moves are never late."""
    late_after = _LATE_AFTER.get(action)
    return (
        late_after is not None
        and party_of(actor=actor, appointment=appointment) == Party.PATIENT
        and now > getattr(appointment, late_after)
    )


def transition_check(
    *, appointment: Appointment, action: Action, actor: User | None, now: datetime
) -> Move:
    """The move `action` makes, if `actor` may make it on `appointment` now.

    A party the table never allows this action answers 403 (they can see the appointment but
    may not act on it); an allowed party at the wrong status or time, or for a doctor of the
    wrong standing, answers 409 `invalid_transition`; the patient's late move, where the
    clinic refuses those, 409 `inside_cutoff`.
    """
    move = TRANSITIONS[action]
    party = party_of(actor=actor, appointment=appointment)
    when = move.parties.get(party) if party is not None else None
    if when is None:
        raise Forbidden(f"You may not {action.replace('_', '-')} this appointment.")
    if appointment.status not in move.sources:
        raise InvalidTransition(
            f"A {appointment.status} appointment cannot be moved to {move.target}."
        )
    if not _in_time(when, appointment, now):
        raise InvalidTransition(f"This move is allowed {when.value} only.")
    if not _standing_holds(move.standing, appointment):
        raise InvalidTransition(_STANDING_RULES[move.standing].strip())
    if settings.LATE_CANCELLATION_POLICY == "refuse" and move_late(
        appointment=appointment, action=action, actor=actor, now=now
    ):
        late_after = getattr(appointment, _LATE_AFTER[action])
        raise InsideCutoff(
            "Changing this appointment online was possible until "
            f"{late_after.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}; "
            "it is too late now: please call the clinic."
        )
    return move


def _either(names: list[str]) -> str:
    return " or ".join(names) if len(names) < 3 else f"{', '.join(names[:-1])} or {names[-1]}"


def move_rule(action: Action) -> str:
    """The table's row for `action` in words, for the API's schema: "From `pending` to
    `confirmed`: the doctor or an admin, before the end." """
    move = TRANSITIONS[action]
    by_when: dict[When, list[str]] = {}
    for party, when in move.parties.items():
        by_when.setdefault(when, []).append(_PARTY_NAMES[party])
    who = "; ".join(f"{_either(names)}, {when.value}" for when, names in by_when.items())
    sources = " or ".join(
        f"`{status}`" for status in AppointmentStatus.values if status in move.sources
    )
    return f"From {sources} to `{move.target}`: {who}.{_STANDING_RULES[move.standing]}"
