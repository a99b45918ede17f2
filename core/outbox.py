"""The worker side of an outbox: rows written in the transaction of the change they tell of,
then sent once each by whichever worker claims them (emails in `notifications.delivery`,
webhook calls in `webhooks.delivery`).

A row is claimed with a conditional UPDATE (`pending` and due -> `sending`, with a fresh claim
token). PostgreSQL lets one UPDATE win: a second worker, or the same task delivered twice,
waits for the row lock, then finds it no longer `pending` and sends nothing. The send happens
with no transaction or lock held; then the row is marked `sent` only if it still carries the
claim token. A failed send is recorded (`attempts`, `last_error`) and the row goes back to
`pending` with an exponentially later `next_attempt_at`; after the last attempt it is `failed`.
A worker that dies between claiming and marking leaves the row `sending`; after the claim
timeout the relay takes it over.

The claim's UPDATE takes only a row nobody is locking (`core.locks.rows_unheld`, skipping
locked rows): two relays at once, or a relay and a deliver task, never queue behind each
other; the loser skips.

Every outbox model has the fields `status`-like (named by `status_field`), `attempts`,
`last_error`, `next_attempt_at`, `claimed_at` and `claim`; its settings are
`<PREFIX>_MAX_ATTEMPTS`, `<PREFIX>_RETRY_BACKOFF` and `<PREFIX>_CLAIM_TIMEOUT`, read at each
use (so a test may change them).
"""

import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any
from uuid import UUID

from celery import Task
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import KombuError

from core.background import background_wake
from core.breaker import CircuitBreaker
from core.locks import rows_unheld

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)

# After a failed publish, queueing is not tried again for this long (in this process): while
# the broker is down, requests do not each wait for it to time out. The rows wait for the relay.
BROKER_RETRY_AFTER_SECONDS = 30.0
broker_breaker = CircuitBreaker(BROKER_RETRY_AFTER_SECONDS)

# The rows the current transaction has queued, on its connection (`outbox_rows_queue`).
_QUEUED = "careslot_outbox_queued"


@dataclass
class _Queued:
    level: tuple[str, ...]  # the savepoints open when the rows were queued
    rows: dict[tuple[str, str], list[str]]  # (deliver task, relay task): row ids


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # the send failed; another attempt is scheduled
    FAILED = "failed"  # the send failed for the last time, or cannot be made
    SKIPPED = "skipped"  # not ours to send: sent, being sent, not due, or gone


def _rows_publish(rows: dict[tuple[str, str], list[str]]) -> None:
    """Hand the rows a transaction wrote to whoever sends them, in one go: one Celery message
    (`outbox.deliver`), or with `RELAY_IN_PROCESS` one wake of the background process for
    their relays, or in-process without a broker. Never raises: if the broker refuses, or
    does not answer within `REDIS_CONNECT_TIMEOUT` and `REDIS_READ_TIMEOUT`, log it and leave
    the rows pending for the relays; for `BROKER_RETRY_AFTER_SECONDS` afterwards, do not even
    try."""
    from core.tasks import outbox_deliver  # the task module imports Celery's app

    queued = getattr(connection, _QUEUED, None)
    if queued is not None and queued.rows is rows:  # later rows go in a publish of their own
        delattr(connection, _QUEUED)
    named = ", ".join(f"{len(ids)} for {deliver}" for (deliver, _), ids in rows.items())
    if settings.RELAY_IN_PROCESS:
        try:
            background_wake(tasks=sorted({relay for _, relay in rows}))
        except Exception:
            logger.exception("Outbox rows (%s) wait for the relay's turn.", named)
        return
    eager = outbox_deliver.app.conf.task_always_eager
    if not eager and not broker_breaker.may_try():
        logger.info("Outbox rows (%s) wait for the relay: the broker is down.", named)
        return
    try:
        outbox_deliver.delay(rows={deliver: ids for (deliver, _), ids in rows.items()})
    except (KombuError, OSError) as error:
        if not eager:
            broker_breaker.trip()
        logger.warning(
            "Outbox rows (%s) wait for the relay: the broker is unreachable (%s).",
            named,
            type(error).__name__,
        )
    except Exception:
        logger.exception("Outbox rows (%s) wait for the relay: queueing failed.", named)


def outbox_rows_queue(
    *, deliver: Task[Any, Any], relay: Task[Any, Any], row_ids: Iterable[object]
) -> None:
    """Queue the sending of outbox rows written in the current transaction for after its
    commit, by `deliver` (a task taking one row's id), or by `relay` when the broker cannot
    take them. The rows queued at one level of a transaction (the transaction itself, or one
    savepoint), of whatever outbox, go in one publish at its commit (`_rows_publish`): a
    booking's notifications and webhook deliveries are one message. A rolled-back transaction
    or savepoint publishes nothing; rows written in a savepoint nested deeper that rolls
    back may still be named, and `deliver` finds them gone and skips them."""
    ids = [str(row_id) for row_id in row_ids]
    if not ids:
        return
    level = tuple(connection.savepoint_ids)
    queued: _Queued | None = getattr(connection, _QUEUED, None)
    # The callback is gone once it has run, or with the (savepoint) rollback that dropped it.
    if (
        queued is None
        or queued.level != level
        or not any(
            callback.keywords.get("rows") is queued.rows
            for callback in (entry[1] for entry in connection.run_on_commit)
            if isinstance(callback, partial)
        )
    ):
        queued = _Queued(level=level, rows={(deliver.name, relay.name): ids})
        setattr(connection, _QUEUED, queued)
        # Outside a transaction (autocommit) this publishes at once.
        transaction.on_commit(partial(_rows_publish, rows=queued.rows), robust=True)
    else:
        queued.rows.setdefault((deliver.name, relay.name), []).extend(ids)


class Outbox:
    """The claiming, retrying and relaying of one outbox model (see the module docstring)."""

    def __init__(self, *, model: type[models.Model], status_field: str, settings_prefix: str):
        self.rows: models.Manager[Any] = model._default_manager
        self.status_field = status_field
        self.settings_prefix = settings_prefix
        self.name = str(model._meta.verbose_name).capitalize()

    def _setting(self, name: str) -> Any:
        return getattr(settings, f"{self.settings_prefix}_{name}")

    def due(self, now: datetime) -> Q:
        """Rows an attempt may start on now: pending and due, or claimed by a worker long gone."""
        status = self.status_field
        return Q(**{status: OutboxStatus.PENDING, "next_attempt_at__lte": now}) | Q(
            **{
                status: OutboxStatus.SENDING,
                "claimed_at__lt": now - self._setting("CLAIM_TIMEOUT"),
            }
        )

    def retry_delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt: the backoff, doubling, at most 1 h."""
        delay: timedelta = min(self._setting("RETRY_BACKOFF") * 2 ** (attempts - 1), MAX_BACKOFF)
        return delay

    def claim(self, *, pk: object) -> UUID | None:
        """Take the row for one attempt if it is due; None if another worker has it (or is
        taking it right now: SKIP LOCKED, no wait), it is done, not due, or gone."""
        now = timezone.now()
        token = uuid.uuid4()
        free = rows_unheld(self.rows.filter(self.due(now), pk=pk))
        with transaction.atomic():
            claimed = self.rows.filter(pk__in=free).update(
                **{self.status_field: OutboxStatus.SENDING},
                claim=token,
                claimed_at=now,
                attempts=F("attempts") + 1,
            )
        return token if claimed else None

    def attempt_failed(
        self, *, row: Any, claim: UUID, error: str, give_up: bool = False, **fields: Any
    ) -> Outcome:
        """Record a failed attempt of a claimed row (`row.attempts` counts it), with any other
        `fields` of the attempt. The error's text (which may quote an address) is kept on the
        row only; the log names the row and the kind of error."""
        now = timezone.now()
        final = give_up or row.attempts >= self._setting("MAX_ATTEMPTS")
        self.rows.filter(pk=row.pk, claim=claim).update(
            **{self.status_field: OutboxStatus.FAILED if final else OutboxStatus.PENDING},
            last_error=error[:1000],
            next_attempt_at=now if final else now + self.retry_delay(row.attempts),
            claim=None,
            **fields,
        )
        logger.warning(
            "%s %s: attempt %s failed%s (%s).",
            self.name,
            row.pk,
            row.attempts,
            " for the last time" if final else "",
            error.split(":", 1)[0],
        )
        return Outcome.FAILED if final else Outcome.RETRY

    def mark_sent(
        self,
        *,
        row: Any,
        claim: UUID,
        on_marked: Callable[[], object] | None = None,
        **fields: Any,
    ) -> bool:
        """Mark a claimed row sent, with the attempt's `fields`, if the claim is still ours
        (a relay that took over a claim it thought dead wins otherwise); `on_marked` runs in
        that transaction. Returns whether it was marked."""
        with transaction.atomic():
            marked = self.rows.filter(pk=row.pk, claim=claim).update(
                **{self.status_field: OutboxStatus.SENT}, claim=None, **fields
            )
            if marked and on_marked is not None:
                on_marked()
        return bool(marked)

    def relay(
        self,
        deliver: Callable[[Any], Outcome],
        *,
        time_budget: float | None = None,
        limit: int | None = 1000,
    ) -> int:
        """Deliver every due row (oldest due first) through `deliver(pk)`, at most `limit`
        (None: all), starting none after `time_budget` seconds. Returns how many were sent.
        Each is claimed by `deliver`: a row another worker holds is skipped there."""
        started = time.monotonic()
        due = list(
            self.rows.filter(self.due(timezone.now()))
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        sent = 0
        for pk in due:
            if time_budget is not None and time.monotonic() - started > time_budget:
                break
            if deliver(pk) == Outcome.SENT:
                sent += 1
        return sent
