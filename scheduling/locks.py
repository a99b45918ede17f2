"""Locks on doctors' schedules: the schedule itself, weekly rules and slots. Their place in
the one order every service locks in, and the timeout every wait has, are in `core.locks`."""

from typing import Any
from uuid import UUID

from django.db.models import QuerySet

from core.locks import advisory_lock, locked_statement, row_lock, rows_lock
from core.statements import Statement, columns_of, row_model
from scheduling.models import Slot, WeeklyRule

# Names in the SQL come from the models' metadata, never from input.
_SLOT_LOCK_SQL = (
    f"SELECT {columns_of(Slot, 's')} FROM scheduling_slot s WHERE s.id = %s FOR NO KEY UPDATE"  # noqa: S608
)


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


def _slot_read(rows: list[tuple[Any, ...]]) -> Slot | None:
    return row_model(Slot, rows[0]) if rows else None


def slot_lock_statement(*, slot_id: UUID) -> Statement[Slot | None]:
    """The slot, locked; None if its window was removed."""
    return locked_statement(_SLOT_LOCK_SQL, [slot_id], _slot_read)


def slot_lock(*, slot_id: UUID) -> Slot | None:
    """`slot_lock_statement`, sent alone."""
    return slot_lock_statement(slot_id=slot_id).run()


def slot_lock_if_free(*, slot_id: UUID) -> Slot | None:
    """The slot (with its doctor), locked, unless it is gone or another transaction holds it
    (the waitlist's sweep: a slot being booked is left for its next run)."""
    return row_lock(Slot.objects.select_related("doctor").filter(pk=slot_id), skip_locked=True)
