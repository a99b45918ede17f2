"""Writes about notifications: the outbox rows and the in-app inbox.

A notification is written by `notification_create` inside the transaction of the change it
tells of (the outbox pattern): it exists if and only if the change committed. Its email is
queued only after that commit (`transaction.on_commit`); queueing never fails the change. If
the broker is down, the row stays `pending` and `notifications.delivery.notifications_relay`
(beat, `manage.py send_notifications`) sends it later.

This app imports no other CareSlot app: callers pass the recipient, the text and the id of
the appointment it is about.
"""

from functools import partial
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from core.outbox import OutboxStatus, task_enqueue
from notifications import tasks
from notifications.models import Notification


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
    """Queue the email of one committed notification (`core.outbox.task_enqueue`: never
    raises; with the broker down the row waits for the relay; with `RELAY_IN_PROCESS` the
    background process's relay sends it)."""
    task_enqueue(
        tasks.notification_deliver,
        relay=tasks.notifications_relay,
        row=f"Notification {notification_id}",
        notification_id=str(notification_id),
    )


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
