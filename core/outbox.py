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
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from celery import Task
from django.conf import settings
from django.db import models, transaction
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


def task_enqueue(task: Task[Any, Any], *, relay: Task[Any, Any], row: str, **kwargs: str) -> None:
    """Queue `task` for one committed outbox row (`row` names it in the log). Never raises:
    if the broker refuses, or does not answer within `REDIS_CONNECT_TIMEOUT` and
    `REDIS_READ_TIMEOUT`, log it and leave the row pending for the relay; for
    `BROKER_RETRY_AFTER_SECONDS` afterwards, do not even try. With `RELAY_IN_PROCESS` (`make
    run` without Redis) this wakes the background process beside the web server, whose
    `relay` sends it; otherwise in-process (no `REDIS_URL`) this runs the task now."""
    if settings.RELAY_IN_PROCESS:
        try:
            background_wake(task=relay.name)
        except Exception:
            logger.exception("%s waits for the relay's turn.", row)
        return
    eager = task.app.conf.task_always_eager
    if not eager and not broker_breaker.may_try():
        logger.info("%s waits for the relay: the broker is down.", row)
        return
    try:
        task.delay(**kwargs)
    except (KombuError, OSError) as error:
        if not eager:
            broker_breaker.trip()
        logger.warning(
            "%s waits for the relay: the broker is unreachable (%s).", row, type(error).__name__
        )
    except Exception:
        logger.exception("%s waits for the relay: queueing failed.", row)


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
