"""Writes about availability: windows and their slots, weekly rules, time off, holidays.

Slots that hold an appointment are never removed or covered behind the patient's back: every
write that would strand one locks the affected slots first (the same row locks booking takes)
and answers 409 `has_active_appointments` if any is booked.

Every write here runs in a locking transaction and takes its locks through
`scheduling.locks`, in the one order written down in `core.locks` (the doctor's schedule,
then weekly rules, then slots); every lock wait is bounded (503 `lock_timeout` past it).
"""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone

from audit.services import audit_model_create, audit_model_delete, audit_record
from core.clinic_time import clinic_today, day_bounds, wall_time_occurrence
from core.db import violated_constraint
from core.errors import EndNotAfterStart, FieldInvalid
from core.locks import locking_transaction
from doctors.models import Doctor
from scheduling.exceptions import (
    BeyondScheduleReach,
    HasActiveAppointments,
    HolidayTaken,
    OverlappingAvailability,
    SlotInPast,
    SpanTooShort,
)
from scheduling.locks import doctor_schedule_lock, slots_lock, weekly_rule_lock
from scheduling.models import AvailabilityWindow, Holiday, Slot, TimeOff, WeeklyRule
from scheduling.signals import slots_opened

SlotTimes = list[tuple[datetime, datetime]]
RULE_FIELDS = [
    "doctor",
    "day_of_week",
    "start_time",
    "end_time",
    "effective_from",
    "effective_until",
]
TIME_OFF_FIELDS = ["doctor", "start", "end", "reason"]
MAX_WINDOW = timedelta(hours=24)


def slot_length() -> timedelta:
    return timedelta(minutes=settings.SLOT_MINUTES)


def slot_times_split(*, start: datetime, end: datetime) -> SlotTimes:
    """Consecutive `SLOT_MINUTES` slots from `start`; a remainder shorter than one makes none."""
    length, times, cursor = slot_length(), [], start
    while cursor + length <= end:
        times.append((cursor, cursor + length))
        cursor += length
    return times


def rule_slot_times(*, rule: WeeklyRule, day: date) -> SlotTimes:
    """The slots a weekly rule gives on one clinic-local day, stepped by wall-clock time.

    A wall time the clocks skip that day gives no slot; one they show twice gives one slot
    (its first occurrence); a slot that would overlap the one before it across a clock change
    is left out.
    """
    length = slot_length()
    times: SlotTimes = []
    wall = datetime.combine(day, rule.start_time)
    last_start = datetime.combine(day, rule.end_time) - length
    while wall <= last_start:
        start = wall_time_occurrence(day, wall.time())
        if start is not None and (not times or start >= times[-1][1]):
            times.append((start, start + length))
        wall += length
    return times


def _none_booked_check(slots: Iterable[Slot]) -> None:
    if any(slot.is_booked for slot in slots):
        raise HasActiveAppointments()


def _window_with_slots_create(
    *, doctor: Doctor, times: SlotTimes, **fields: Any
) -> AvailabilityWindow:
    """Write a window and its slots, with one audit entry naming every slot it made, and
    announce the new slots (`slots_opened`)."""
    window = AvailabilityWindow.objects.create(doctor=doctor, **fields)
    slots = Slot.objects.bulk_create(
        Slot(doctor=doctor, window=window, start=start, end=end) for start, end in times
    )
    audit_model_create(
        instance=window,
        fields=["doctor", "start", "end", "weekly_rule", "rule_date", "is_override"],
        slots=[[str(slot.pk), slot.start, slot.end] for slot in slots],
    )
    slots_opened.send(sender=Slot, slot_ids=[slot.pk for slot in slots])
    return window


def _window_delete(window: AvailabilityWindow) -> None:
    slots = list(window.slots.values_list("pk", flat=True))
    audit_model_delete(instance=window, fields=["doctor", "start", "end"])
    window.delete()
    if slots:
        audit_record(
            action="delete",
            target_type="slot",
            target_id="",
            changes={"slots": [str(pk) for pk in slots], "window": str(window.pk)},
        )


def schedule_reach_check(*, day: date, attr: str) -> None:
    """Schedules reach `SCHEDULE_MAX_DAYS_AHEAD` days ahead (two years by default); anything
    later is a typo or a probe, and a 400 on `attr`."""
    if day > clinic_today() + timedelta(days=settings.SCHEDULE_MAX_DAYS_AHEAD):
        raise BeyondScheduleReach(
            f"Schedules reach at most {settings.SCHEDULE_MAX_DAYS_AHEAD} days ahead.", attr=attr
        )


def _window_overlaps(*, doctor: Doctor, start: datetime, end: datetime) -> bool:
    return AvailabilityWindow.objects.filter(doctor=doctor, start__lt=end, end__gt=start).exists()


def window_create(*, doctor: Doctor, start: datetime, end: datetime) -> AvailabilityWindow:
    """Publish a window and split it into slots.

    Rules: `end` after `start`; at least one slot long; at most 24 h; `start` not passed
    (`slot_in_past`); no overlap with another window of the doctor (409
    `overlapping_availability`). Takes the doctor's schedule lock, so of two overlapping
    windows created at the same moment the second waits for the first and then fails; the
    exclusion constraint on windows backs that up.
    """
    if end <= start:
        raise EndNotAfterStart()
    if end - start < slot_length():
        raise SpanTooShort(
            f"A window must be at least {settings.SLOT_MINUTES} minutes.", attr="end"
        )
    if end - start > MAX_WINDOW:
        raise FieldInvalid("A window may be at most 24 hours long.", attr="end")
    if start <= timezone.now():
        raise SlotInPast("The window's start has already passed.", attr="start")
    schedule_reach_check(day=start.date(), attr="start")
    if _window_overlaps(doctor=doctor, start=start, end=end):
        raise OverlappingAvailability()
    try:
        with locking_transaction():
            doctor_schedule_lock(doctor_id=doctor.pk)
            if _window_overlaps(doctor=doctor, start=start, end=end):
                raise OverlappingAvailability()
            return _window_with_slots_create(
                doctor=doctor, times=slot_times_split(start=start, end=end), start=start, end=end
            )
    except IntegrityError as error:
        if violated_constraint(error) in (
            "scheduling_window_no_overlap",
            "scheduling_slot_no_overlap",
        ):
            raise OverlappingAvailability() from error
        raise


def window_delete(*, window: AvailabilityWindow) -> None:
    """Remove a window and its slots, unless one of them holds a pending or confirmed
    appointment (409 `has_active_appointments`). Locks the window's slots first, so a booking
    in flight either finishes before (and is seen) or waits and finds the slot gone."""
    with locking_transaction():
        _none_booked_check(slots_lock(Slot.objects.filter(window=window)))
        _window_delete(window)


def _windows_of(*, doctor: Doctor, times: SlotTimes) -> SlotTimes:
    """The doctor's windows that overlap the span of `times` (none if it is empty)."""
    if not times:
        return []
    return list(
        AvailabilityWindow.objects.filter(
            doctor=doctor, start__lt=times[-1][1], end__gt=times[0][0]
        ).values_list("start", "end")
    )


def _runs_around(times: SlotTimes, taken: SlotTimes) -> list[SlotTimes]:
    """The slots of `times` that overlap none of the `taken` spans, grouped into runs whose
    span (first start to last end) overlaps none either: each run is one window. Slots the
    clocks keep apart (a repeated hour) stay in one run when nothing lies between them."""

    def clashes(start: datetime, end: datetime) -> bool:
        return any(taken_start < end and taken_end > start for taken_start, taken_end in taken)

    runs: list[SlotTimes] = []
    for start, end in times:
        if clashes(start, end):
            continue
        if runs and not clashes(runs[-1][0][0], end):
            runs[-1].append((start, end))
        else:
            runs.append([(start, end)])
    return runs


def weekly_rule_extend(*, rule: WeeklyRule, through: date) -> int:
    """Generate the rule's windows for its days up to `through`; returns how many were made.

    Takes the doctor's schedule lock, then the rule's row, so two runs at the same moment
    take turns and the second finds the days done (`generated_through`), and a deletion of
    the rule waits for the run (or the run finds the rule gone: nothing to make).

    A rule never produces a slot that overlaps an existing window of the doctor (one they
    published, or an override booked beyond the horizon): the day's other slots are still
    made, in as many windows as the existing ones split them into (`_runs_around`).
    """
    made = 0
    with locking_transaction():
        doctor_schedule_lock(doctor_id=rule.doctor_id)
        locked_rule = weekly_rule_lock(rule_id=rule.pk)
        if locked_rule is None:
            return 0
        rule = locked_rule
        first = max(rule.effective_from, clinic_today())
        if rule.generated_through:
            first = max(first, rule.generated_through + timedelta(days=1))
        last = min(through, rule.effective_until) if rule.effective_until else through
        day = first + timedelta(days=(rule.day_of_week - first.weekday()) % 7)
        while day <= last:
            times = [(s, e) for s, e in rule_slot_times(rule=rule, day=day) if s > timezone.now()]
            for run in _runs_around(times, _windows_of(doctor=rule.doctor, times=times)):
                _window_with_slots_create(
                    doctor=rule.doctor,
                    times=run,
                    start=run[0][0],
                    end=run[-1][1],
                    weekly_rule=rule,
                    rule_date=day,
                )
                made += 1
            day += timedelta(days=7)
        if last >= first and (rule.generated_through is None or last > rule.generated_through):
            rule.generated_through = last
            rule.save(update_fields=["generated_through"])
    return made


def horizon_last_day() -> date:
    return clinic_today() + timedelta(days=settings.BOOKING_HORIZON_DAYS)


def slots_extend() -> int:
    """Keep every current weekly rule's slots generated through the booking horizon
    (`manage.py extend_slots` and the daily beat task); idempotent. Returns windows made."""
    through = horizon_last_day()
    rules = WeeklyRule.objects.exclude(effective_until__lt=clinic_today()).filter(
        doctor__is_blacklisted=False
    )
    return sum(weekly_rule_extend(rule=rule, through=through) for rule in rules)


def weekly_rule_create(
    *,
    doctor: Doctor,
    day_of_week: int,
    start_time: time,
    end_time: time,
    effective_from: date,
    effective_until: date | None = None,
) -> WeeklyRule:
    """Add a weekly rule (clinic local time) and generate its slots through the horizon, in
    one transaction. 409 `overlapping_availability` if another rule of the doctor covers the
    same weekday hours in an overlapping period: checked again under the doctor's schedule
    lock, so of two such rules added at once the second waits and then fails."""
    if end_time <= start_time:
        raise EndNotAfterStart(attr="end_time")
    if (
        datetime.combine(date.min, end_time) - datetime.combine(date.min, start_time)
        < slot_length()
    ):
        raise SpanTooShort(
            f"A rule must span at least {settings.SLOT_MINUTES} minutes.", attr="end_time"
        )
    if effective_until is not None and effective_until < effective_from:
        raise FieldInvalid("Must not be before effective_from.", attr="effective_until")
    if effective_until is not None and effective_until < clinic_today():
        raise FieldInvalid("The rule would already have ended.", attr="effective_until")
    schedule_reach_check(day=effective_from, attr="effective_from")
    if _rule_overlaps(
        doctor=doctor,
        day_of_week=day_of_week,
        start_time=start_time,
        end_time=end_time,
        effective_from=effective_from,
        effective_until=effective_until,
    ):
        raise OverlappingAvailability("This overlaps another weekly rule of the same doctor.")
    with locking_transaction():
        doctor_schedule_lock(doctor_id=doctor.pk)
        if _rule_overlaps(
            doctor=doctor,
            day_of_week=day_of_week,
            start_time=start_time,
            end_time=end_time,
            effective_from=effective_from,
            effective_until=effective_until,
        ):
            raise OverlappingAvailability("This overlaps another weekly rule of the same doctor.")
        rule = WeeklyRule.objects.create(
            doctor=doctor,
            day_of_week=day_of_week,
            start_time=start_time,
            end_time=end_time,
            effective_from=effective_from,
            effective_until=effective_until,
        )
        audit_model_create(instance=rule, fields=RULE_FIELDS)
        weekly_rule_extend(rule=rule, through=horizon_last_day())
    return rule


def _rule_overlaps(
    *,
    doctor: Doctor,
    day_of_week: int,
    start_time: time,
    end_time: time,
    effective_from: date,
    effective_until: date | None,
) -> bool:
    rules = WeeklyRule.objects.filter(
        doctor=doctor, day_of_week=day_of_week, start_time__lt=end_time, end_time__gt=start_time
    ).exclude(effective_until__lt=effective_from)
    if effective_until is not None:
        rules = rules.exclude(effective_from__gt=effective_until)
    return rules.exists()


def weekly_rule_delete(*, rule: WeeklyRule) -> None:
    """Remove a rule and the windows it made that have not started yet, unless one of their
    slots holds a pending or confirmed appointment (409). Past windows stay, unlinked.

    Takes the doctor's schedule lock, then the rule's, then the windows' slots: an extension
    of the rule running at the same moment finishes first, and its windows are removed too.
    """
    with locking_transaction():
        doctor_schedule_lock(doctor_id=rule.doctor_id)
        locked_rule = weekly_rule_lock(rule_id=rule.pk)
        if locked_rule is None:  # deleted meanwhile
            return
        rule = locked_rule
        upcoming = AvailabilityWindow.objects.filter(weekly_rule=rule, start__gt=timezone.now())
        _none_booked_check(slots_lock(Slot.objects.filter(window__in=upcoming)))
        for window in upcoming:
            _window_delete(window)
        audit_model_delete(instance=rule, fields=RULE_FIELDS)
        rule.delete()


def time_off_create(*, doctor: Doctor, start: datetime, end: datetime, reason: str = "") -> TimeOff:
    """Record a doctor's absence: the free slots inside stop being offered.

    409 `has_active_appointments` if a pending or confirmed appointment lies inside. The slots
    inside are locked first, so a booking racing this either lands first (and is seen here)
    or waits and then finds the time off.
    """
    if end <= start:
        raise EndNotAfterStart()
    if end <= timezone.now():
        raise FieldInvalid("The time off would already be over.", attr="end")
    schedule_reach_check(day=start.date(), attr="start")
    with locking_transaction():
        _none_booked_check(
            slots_lock(Slot.objects.filter(doctor=doctor, start__lt=end, end__gt=start))
        )
        time_off = TimeOff.objects.create(doctor=doctor, start=start, end=end, reason=reason)
        audit_model_create(instance=time_off, fields=TIME_OFF_FIELDS)
        return time_off


def time_off_delete(*, time_off: TimeOff) -> None:
    """Remove a time off: its slots are offered again (nothing can be stranded), and
    announced (`slots_opened`)."""
    with locking_transaction():
        audit_model_delete(instance=time_off, fields=TIME_OFF_FIELDS)
        time_off.delete()
        slots_opened.send(
            sender=Slot,
            slot_ids=list(
                Slot.objects.filter(
                    doctor_id=time_off.doctor_id, start__lt=time_off.end, end__gt=time_off.start
                ).values_list("pk", flat=True)
            ),
        )


def holiday_create(*, day: date, name: str) -> Holiday:
    """Close the clinic for a clinic-local day: no slot that day is offered.

    Like time off, 409 `has_active_appointments` if a pending or confirmed appointment falls on
    that day (cancel or move them first), checked under the slots' row locks.
    """
    if day < clinic_today():
        raise FieldInvalid("The day has already passed.", attr="date")
    schedule_reach_check(day=day, attr="date")
    if Holiday.objects.filter(date=day).exists():
        raise HolidayTaken()
    lower, upper = day_bounds(day, day)
    try:
        with locking_transaction():
            _none_booked_check(slots_lock(Slot.objects.filter(start__gte=lower, start__lt=upper)))
            holiday = Holiday.objects.create(date=day, name=name)
            audit_model_create(instance=holiday, fields=["date", "name"])
            return holiday
    except IntegrityError as error:
        raise HolidayTaken() from error


def holiday_delete(*, holiday: Holiday) -> None:
    """Reopen the clinic for the day; its slots are announced (`slots_opened`)."""
    lower, upper = day_bounds(holiday.date, holiday.date)
    with locking_transaction():
        audit_model_delete(instance=holiday, fields=["date", "name"])
        holiday.delete()
        slots_opened.send(
            sender=Slot,
            slot_ids=list(
                Slot.objects.filter(start__gte=lower, start__lt=upper).values_list("pk", flat=True)
            ),
        )
