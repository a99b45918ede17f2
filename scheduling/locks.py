"""Locks on doctors' schedules: the schedule itself, weekly rules and slots. Their place in
the one order every service locks in, and the timeout every wait has, are in `core.locks`."""

from uuid import UUID

from django.db.models import QuerySet

from core.locks import advisory_lock, row_lock, rows_lock
from scheduling.models import Slot, WeeklyRule


def doctor_schedule_lock(*, doctor_id: UUID) -> None:
    """Serialize, per doctor, the writes that add or remove windows (publishing, weekly rules,
    their extension and deletion, override bookings) until the end of the transaction. Two
    overlapping windows inserted at once would otherwise each find the other's uncommitted
    row in the exclusion constraint and deadlock; with this lock the second waits, then sees
    the first and answers 409."""
    advisory_lock(f"schedule:{doctor_id}")


def weekly_rule_lock(*, rule_id: UUID) -> WeeklyRule | None:
    """The rule (with its doctor), locked; None once it has been deleted."""
    return row_lock(WeeklyRule.objects.select_related("doctor").filter(pk=rule_id))


def slots_lock(slots: QuerySet[Slot]) -> list[Slot]:
    """Lock slots, in primary-key order. A transaction that moves more than one slot locks
    them all here first; one that moves a single slot may let its UPDATE take the lock."""
    return rows_lock(slots)


def slot_lock(*, slot_id: UUID) -> Slot | None:
    """The slot, locked; None if its window was removed."""
    return row_lock(Slot.objects.filter(pk=slot_id))


def slot_lock_if_free(*, slot_id: UUID) -> Slot | None:
    """The slot (with its doctor), locked, unless it is gone or another transaction holds it
    (the waitlist's sweep: a slot being booked is left for its next run)."""
    return row_lock(Slot.objects.select_related("doctor").filter(pk=slot_id), skip_locked=True)
