"""Shared reads about availability and free slots."""

from collections.abc import Sequence
from datetime import date, timedelta
from functools import cache
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    Exists,
    F,
    Model,
    OuterRef,
    Prefetch,
    QuerySet,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import User
from core.clinic_time import clinic_zone, clinic_zone_name, day_bounds
from core.statements import Statement, columns_of, row_model
from doctors.selectors import doctor_cutoffs_annotate
from scheduling.models import AvailabilityWindow, Holiday, Slot, TimeOff, WeeklyRule

M = TypeVar("M", bound=Model)


def slot_list_free(
    *,
    doctor_id: UUID | None = None,
    specialization_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[Slot]:
    """Free, bookable slots ordered by start (*free* as docs/api.md, "Booking", defines it).

    Free: no pending or confirmed appointment holds it (`is_booked`), no open waitlist offer
    holds it for a patient (`waitlist.models.WaitlistOffer`), it starts after now plus
    `BOOKING_LEAD_TIME` and before the booking horizon, its doctor is not blacklisted, and no
    time off or clinic holiday (clinic-local day of its start) covers it. `date_from` and
    `date_to` are clinic-local days, both included. One SQL query whatever the page size.

    Each slot carries what a search result shows of its doctor as plain columns
    (`doctor_first_name`, `doctor_last_name`, `specialization_id`, `specialization_name`)
    rather than as related model instances, so a page of results builds no Doctor, User or
    Specialization objects (why: bench/README.md, "`GET /slots/`"), and so do its doctor's
    cutoffs, which make its `cancel_by` and `reschedule_by`.
    """
    now = timezone.now()
    # The booking service's time rules, to the instant: started (`start <= now`), inside the
    # lead time (`start < now + lead`), beyond the horizon (`start >= now + horizon`).
    slots = _free_slots_shaped(clinic_zone()).filter(
        start__gt=now,
        start__gte=now + settings.BOOKING_LEAD_TIME,
        start__lt=now + timedelta(days=settings.BOOKING_HORIZON_DAYS),
    )
    # Clinic-local days, half-open: a slot at local midnight belongs to the day it starts.
    lower, upper = day_bounds(date_from, date_to)
    if lower is not None:
        slots = slots.filter(start__gte=lower)
    if upper is not None:
        slots = slots.filter(start__lt=upper)
    if doctor_id is not None:
        slots = slots.filter(doctor_id=doctor_id)
    if specialization_id is not None:
        slots = slots.filter(doctor__specialization_id=specialization_id)
    return doctor_cutoffs_annotate(slots)


@cache
def _free_slots_shaped(zone: ZoneInfo) -> QuerySet[Slot]:
    """The part of `slot_list_free` that does not depend on the request or the time: the
    standing conditions and the shape of a result row. Built once per process and time zone,
    and only ever refined: every `filter()` returns a new queryset, this one is never
    evaluated (why: bench/README.md, "`GET /slots/`")."""
    time_off = TimeOff.objects.filter(
        doctor_id=OuterRef("doctor_id"), start__lt=OuterRef("end"), end__gt=OuterRef("start")
    )
    holiday = Holiday.objects.filter(date=OuterRef("local_day"))
    return (
        Slot.objects.filter(is_booked=False, doctor__is_blacklisted=False)
        .alias(local_day=TruncDate("start", tzinfo=zone))
        .filter(~Exists(time_off), ~Exists(holiday))
        # Held for a waitlisted patient; followed by its reverse relation's name, as the
        # waitlist sits above scheduling (docs/architecture.md).
        .exclude(waitlist_offers__status="open")
        .annotate(
            doctor_first_name=F("doctor__user__first_name"),
            doctor_last_name=F("doctor__user__last_name"),
            specialization_id=F("doctor__specialization_id"),
            specialization_name=F("doctor__specialization__name"),
        )
        .order_by("start", "doctor_id")
    )


def window_list_visible(
    *, user: User, doctor_id: UUID | None = None
) -> QuerySet[AvailabilityWindow]:
    """Windows with their slots: a doctor sees their own, an admin anyone's (`doctor_id`)."""
    windows = AvailabilityWindow.objects.prefetch_related(
        Prefetch("slots", queryset=Slot.objects.order_by("start"))
    )
    return _owned_by_caller(windows, user, doctor_id)


def _owned_by_caller(
    queryset: QuerySet[M], user: User, doctor_id: UUID | None = None
) -> QuerySet[M]:
    """Rows of one doctor's schedule: the doctor's own, or for an admin any (or `doctor_id`)."""
    if user.is_admin:
        return queryset.filter(doctor_id=doctor_id) if doctor_id else queryset
    if user.is_doctor:
        return queryset.filter(doctor_id=user.pk)
    return queryset.none()


def weekly_rule_list_visible(*, user: User, doctor_id: UUID | None = None) -> QuerySet[WeeklyRule]:
    return _owned_by_caller(WeeklyRule.objects.all(), user, doctor_id)


def time_off_list_visible(*, user: User, doctor_id: UUID | None = None) -> QuerySet[TimeOff]:
    return _owned_by_caller(TimeOff.objects.all(), user, doctor_id)


# Names in the SQL come from the models' metadata, never from input.
_SLOT_STANDING_SQL = (
    f"SELECT {columns_of(Slot, 's')}, d.is_blacklisted FROM scheduling_slot s "  # noqa: S608
    "JOIN doctors_doctor d ON d.user_id = s.doctor_id WHERE s.id = %s"
)


def _slot_standing_read(rows: list[tuple[Any, ...]]) -> tuple[Slot, bool] | None:
    if not rows:
        return None
    *slot, doctor_blacklisted = rows[0]
    return row_model(Slot, slot), doctor_blacklisted


def slot_with_doctor_standing_statement(*, slot_id: UUID) -> Statement[tuple[Slot, bool] | None]:
    """The slot and whether its doctor is blacklisted, without a lock: what a booking checks
    before it locks anything (a slot taken meanwhile answers 409 at once, waiting for no
    lock). None if there is no such slot."""
    return Statement(_SLOT_STANDING_SQL, [slot_id], _slot_standing_read)


_CLOSURES_SQL = """
SELECT s.id,
    EXISTS (SELECT 1 FROM scheduling_holiday h WHERE h.date = (s.start AT TIME ZONE %s)::date),
    EXISTS (SELECT 1 FROM scheduling_timeoff t
            WHERE t.doctor_id = s.doctor_id AND t.start < s."end" AND t."end" > s.start)
FROM scheduling_slot s WHERE s.id = ANY(%s)
"""


def _closures_read(rows: list[tuple[Any, ...]]) -> dict[Any, str]:
    return {
        slot_id: "holiday" if holiday else "time_off"
        for slot_id, holiday, time_off in rows
        if holiday or time_off
    }


def slot_closures_statement(*, slot_ids: Sequence[UUID]) -> Statement[dict[Any, str]]:
    """Which of the slots `slot_ids` are closed, by slot id, and why: `"holiday"` when a
    clinic holiday falls on the slot's clinic-local day, otherwise `"time_off"` when time off
    of its doctor covers any of it. Open slots are left out. One statement however many
    slots: it runs inside every booking's locked transaction (a series' too), sent with the
    booking's other reads (`core.statements.statements_run`)."""
    return Statement(_CLOSURES_SQL, [clinic_zone_name(), list(slot_ids)], _closures_read)


def slot_closures(*, slots: Sequence[Slot]) -> dict[Any, str]:
    """`slot_closures_statement` of `slots`, sent alone."""
    if not slots:
        return {}
    return slot_closures_statement(slot_ids=[slot.pk for slot in slots]).run()
