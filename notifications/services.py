"""Writes about notifications: the outbox rows and the in-app inbox.

A notification is written by `notification_create` inside the transaction of the change it
tells of (the outbox pattern): it exists if and only if the change committed. Its email is
queued only after that commit (`transaction.on_commit`); queueing never fails the change. If
the broker is down, the row stays `pending` and `notifications.delivery.notifications_relay`
(beat, `manage.py send_notifications`) sends it later.

This app imports no other CareSlot app: callers pass the recipient, the text and the id of
the appointment it is about.
"""

import logging
from functools import partial
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from kombu.exceptions import KombuError

from core.background import background_wake
from core.breaker import CircuitBreaker
from core.outbox import OutboxStatus
from notifications import tasks
from notifications.models import Notification

logger = logging.getLogger(__name__)

# After a failed publish, queueing is not tried again for this long (in this process): while
# the broker is down, requests do not each wait for it to time out. The rows wait for the relay.
BROKER_RETRY_AFTER_SECONDS = 30.0
broker_breaker = CircuitBreaker(BROKER_RETRY_AFTER_SECONDS)


def notification_create(
    *,
    recipient: Model,
    kind: str,
    appointment_id: UUID | None,
    title: str,
    body: str,
    dedupe_key: str | None = None,
) -> Notification | None:
    """Write a notification for `recipient` in the caller's transaction and queue its email
    for after the commit. With a `dedupe_key` that already exists, write nothing and return
    None: a reminder or a no-show email exists at most once, whoever races to create it (the
    unique index decides; the insert runs in a savepoint so the caller's transaction goes on).
    Never put protected health information in `title` or `body`.
    """
    values = {
        "recipient": recipient,
        "kind": kind,
        "appointment_id": appointment_id,
        "title": title[:200],
        "body": body,
        "dedupe_key": dedupe_key,
        "created_at": timezone.now(),
        "next_attempt_at": timezone.now(),
    }
    if dedupe_key is None:
        # Nothing unique to collide on, so no savepoint: any other failure is the caller's.
        notification = Notification.objects.create(**values)
    else:
        try:
            with transaction.atomic():
                notification = Notification.objects.create(**values)
        except IntegrityError:
            if Notification.objects.filter(dedupe_key=dedupe_key).exists():
                return None
            raise
    transaction.on_commit(partial(delivery_enqueue, notification_id=notification.pk), robust=True)
    return notification


def delivery_enqueue(*, notification_id: UUID) -> None:
    """Queue the email of one committed notification. Never raises: if the broker refuses, or
    does not answer within `REDIS_CONNECT_TIMEOUT` and `REDIS_READ_TIMEOUT`, log it and leave
    the row pending for the relay; for `BROKER_RETRY_AFTER_SECONDS` afterwards, do not even
    try. With `RELAY_IN_PROCESS` (`make run` without Redis) this wakes the background process
    beside the web server, which sends it; otherwise in-process (no `REDIS_URL`) this sends the
    email now."""
    if settings.RELAY_IN_PROCESS:
        try:
            background_wake(task=tasks.notifications_relay.name)
        except Exception:
            logger.exception("Notification %s waits for the relay's turn.", notification_id)
        return
    eager = tasks.notification_deliver.app.conf.task_always_eager
    if not eager and not broker_breaker.may_try():
        logger.info("Notification %s waits for the relay: the broker is down.", notification_id)
        return
    try:
        tasks.notification_deliver.delay(notification_id=str(notification_id))
    except (KombuError, OSError) as error:
        if not eager:
            broker_breaker.trip()
        logger.warning(
            "Notification %s waits for the relay: the broker is unreachable (%s).",
            notification_id,
            type(error).__name__,
        )
    except Exception:
        logger.exception("Notification %s waits for the relay: queueing failed.", notification_id)


def notification_withdraw(*, appointment_id: UUID, kind: str) -> int:
    """Delete the notifications of `kind` about an appointment whose emails are not yet being
    sent or sent (the reminders of an appointment that has been cancelled or moved). Returns
    how many went. A worker that claimed one first wins: its row is no longer `pending` and
    stays."""
    deleted, _ = Notification.objects.filter(
        appointment_id=appointment_id, kind=kind, email_status=OutboxStatus.PENDING
    ).delete()
    return deleted


def notification_mark_read(*, notification: Notification) -> Notification:
    """Mark a notification read, once: reading it again keeps the first `read_at`."""
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    notification.refresh_from_db(fields=["read_at"])
    return notification
