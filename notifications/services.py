"""Writes about notifications: the outbox rows and the in-app inbox.

A notification is written inside the transaction of the change it tells of (the outbox
pattern), by `notification_create`, or built by `notification_build` for a caller that
writes it with its other rows in one statement (a booking) and queues it
(`notifications_queue`): it exists if and only if the change committed. Its email is queued
only after that commit (`core.outbox.outbox_rows_queue`); queueing never fails the change. If
the broker is down, the row stays `pending` and `notifications.delivery.notifications_relay`
(beat, `manage.py send_notifications`) sends it later.

This app imports no other CareSlot app: callers pass the recipient, the text and the id of
the appointment it is about.
"""

from collections.abc import Iterable
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from core.outbox import OutboxStatus, outbox_rows_queue
from notifications import tasks
from notifications.models import Notification


def notification_build(
    *,
    recipient: Model,
    kind: str,
    appointment_id: UUID | None,
    title: str,
    body: str,
    dedupe_key: str | None = None,
) -> Notification:
    """A notification for `recipient`, not yet written: for a caller that writes it with its
    other rows in one statement (`core.statements.RowWrites`) and then queues it
    (`notifications_queue`). Never put protected health information in `title` or `body`."""
    now = timezone.now()
    return Notification(
        recipient=recipient,  # type: ignore[misc]  # a User: this app names no other app's model
        kind=kind,
        appointment_id=appointment_id,
        title=title[:200],
        body=body,
        dedupe_key=dedupe_key,
        created_at=now,
        next_attempt_at=now,
    )


def notifications_queue(notifications: Iterable[Notification]) -> None:
    """Queue the emails of notifications written in the current transaction for after its
    commit (`core.outbox.outbox_rows_queue`: never raises; with the broker down they wait for
    the relay)."""
    outbox_rows_queue(
        deliver=tasks.notification_deliver,
        relay=tasks.notifications_relay,
        row_ids=[notification.pk for notification in notifications],
    )


def notification_create(
    *,
    recipient: Model,
    kind: str,
    appointment_id: UUID | None,
    title: str,
    body: str,
    dedupe_key: str | None = None,
) -> Notification | None:
    """Write a notification (`notification_build`) in the caller's transaction and queue its
    email for after the commit. With a `dedupe_key` that already exists, write nothing and
    return None: a reminder or a no-show email exists at most once, whoever races to create
    it (the unique index decides; the insert runs in a savepoint so the caller's transaction
    goes on)."""
    notification = notification_build(
        recipient=recipient,
        kind=kind,
        appointment_id=appointment_id,
        title=title,
        body=body,
        dedupe_key=dedupe_key,
    )
    if dedupe_key is None:
        # Nothing unique to collide on, so no savepoint: any other failure is the caller's.
        notification.save(force_insert=True)
    else:
        try:
            with transaction.atomic():
                notification.save(force_insert=True)
        except IntegrityError:
            if Notification.objects.filter(dedupe_key=dedupe_key).exists():
                return None
            raise
    notifications_queue([notification])
    return notification


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
