"""How CareSlot's services lock, and the one order they lock in.

Every lock a service takes goes through the `locks` module of the app that owns the rows
(`scheduling.locks`, `doctors.locks`, `appointments.locks`, `waitlist.locks`), each built on
the helpers here, inside a `locking_transaction()`. Two rules keep any two services from
deadlocking:

**One order.** A transaction takes its locks in this order, skipping what it does not need
and never going back to an earlier step:

1. a doctor's schedule (`scheduling.locks.schedule_lock`, an advisory lock per doctor): the
   writes that add or remove windows: publishing, weekly rules, their extension and
   deletion, override bookings;
2. weekly rules (`scheduling.locks.weekly_rule_lock`);
3. the doctor's row (`doctors.locks`): for update by blacklisting, unblacklisting and a
   rating; shared by a booking, so that none lands for a doctor being blacklisted, while
   bookings of one doctor never wait for each other; then the doctor's user row
   (blacklisting deactivates it);
4. a recurring series (`appointments.locks.series_lock`: cancelling its visits), then
   appointments (`appointments.locks`);
5. slots (`scheduling.locks`), then the windows removed with them; a series' booking locks
   all its visits' slots in one statement;
6. the patient's row (`appointments.locks.patient_lock`), then the patient's user row (a
   profile update writes the profile's row before its user's);
7. penalties (`appointments.locks.penalty_lock`);
8. waitlist entries (`waitlist.locks`): the entry whose offer is accepted, declined,
   withdrawn or expired; an entry chosen for a new offer is taken with `skip_locked`, the
   first free one in join order, so choosing never waits (and may follow any step above);
9. waitlist offers (`waitlist.locks`). An offer is made, and its hold ended, only under its
   slot's lock (step 5): a booking of that slot, which takes the same lock, sees the hold
   or its end, never half of it.

Rows of one kind are locked in one statement, in primary-key order. Row locks are `FOR NO
KEY UPDATE` (`no_key=True`): no service changes a primary key, and so inserting a row that
refers to a locked one (a window of a doctor being blacklisted, the penalty of a patient who
is booking) takes the key-share lock without waiting, which would otherwise be a lock
outside this order.

**A bounded wait.** `locking_transaction()` sets `lock_timeout` (`BOOKING_LOCK_TIMEOUT_MS`)
for the whole transaction, and the helpers refuse to lock outside one: a wait past it raises
LockNotAvailable, which the API answers as 503 `lock_timeout` with Retry-After. The sweeps
skip a row another transaction holds (`skip_locked`) rather than wait for it.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection, transaction
from django.db.models import Model, QuerySet

from core.db import lock_timeout_set
from core.statements import Statement

M = TypeVar("M", bound=Model)
T = TypeVar("T")

# How many locking transactions are open on this thread's connection: only the outermost
# sets the timeout (for the whole transaction it opens), and a helper called outside any is
# a programming error.
_DEPTH = "careslot_locking_depth"


@contextmanager
def locking_transaction() -> Iterator[None]:
    """A transaction (or a savepoint inside one) in which locks may be taken; its lock waits
    are bounded by `BOOKING_LOCK_TIMEOUT_MS`."""
    with transaction.atomic():
        depth = getattr(connection, _DEPTH, 0)
        if depth == 0:
            lock_timeout_set(settings.BOOKING_LOCK_TIMEOUT_MS)
        setattr(connection, _DEPTH, depth + 1)
        try:
            yield
        finally:
            setattr(connection, _DEPTH, depth)


def _locking_transaction_check() -> None:
    if not getattr(connection, _DEPTH, 0):
        raise RuntimeError("Locks are taken inside core.locks.locking_transaction() only.")


def rows_unheld(rows: QuerySet[M]) -> QuerySet[M]:
    """`rows` less those another transaction holds, locked by the statement that uses them
    (an outbox's claim: `UPDATE … WHERE pk IN (this)`), which never waits: the claim is the
    whole transaction, so it takes no other lock and has no place in the order."""
    return rows.select_for_update(skip_locked=True)


def rows_lock(rows: QuerySet[M], *, skip_locked: bool = False, limit: int | None = None) -> list[M]:
    """Lock `rows` for update, in primary-key order, and return them (the first `limit` of
    them, if given). With `skip_locked`, rows another transaction holds are left out instead
    of waited for."""
    _locking_transaction_check()
    locked = rows.order_by("pk").select_for_update(
        of=("self",), no_key=True, skip_locked=skip_locked
    )
    return list(locked[:limit] if limit is not None else locked)


def row_lock(rows: QuerySet[M], *, skip_locked: bool = False) -> M | None:
    """Lock the one row of `rows` (None if there is none, or if it is held and `skip_locked`)."""
    locked = rows_lock(rows, skip_locked=skip_locked)
    return locked[0] if locked else None


def row_lock_first_free(rows: QuerySet[M], *, order_by: tuple[str, ...]) -> M | None:
    """The first row of `rows` in `order_by` order that no other transaction holds, locked
    (None if there is none). It never waits, so it may lock in an order other than the key's
    and at any step of the lock order without risking a deadlock."""
    _locking_transaction_check()
    locked = rows.order_by(*order_by).select_for_update(of=("self",), no_key=True, skip_locked=True)
    return locked.first()


def _row_missing(model: type[Model]) -> ObjectDoesNotExist:
    """The model's own DoesNotExist, which callers catch as they would after `.get()`."""
    # django-stubs declares DoesNotExist on each concrete model only, not on Model.
    does_not_exist: type[ObjectDoesNotExist] = model.DoesNotExist  # type: ignore[attr-defined]
    return does_not_exist(f"No {model._meta.object_name} to lock.")


def row_lock_existing(rows: QuerySet[M]) -> M:
    """Lock the one row of `rows`, which the service read before its transaction: the model's
    DoesNotExist if it has been deleted since."""
    locked = row_lock(rows)
    if locked is None:
        raise _row_missing(rows.model)
    return locked


def locked_statement(
    sql: str, params: Sequence[Any], read: Callable[[list[tuple[Any, ...]]], T]
) -> Statement[T]:
    """A statement that takes row locks (`FOR SHARE`, `FOR NO KEY UPDATE`), built for
    `core.statements.statements_run`: several such statements sent together take their locks
    in the order given. Refused outside a `locking_transaction()`, like every lock here."""
    _locking_transaction_check()
    return Statement(sql, params, read)


def locked_statement_existing(statement: Statement[M | None], model: type[Model]) -> M:
    """`statement` (a `locked_statement` of one row the service read before its
    transaction), sent alone: the model's DoesNotExist if it has been deleted since, as
    `row_lock_existing`."""
    row = statement.run()
    if row is None:
        raise _row_missing(model)
    return row


def advisory_lock(key: str) -> None:
    """Take the transaction-level advisory lock named `key` (released at commit or rollback)."""
    _locking_transaction_check()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])
