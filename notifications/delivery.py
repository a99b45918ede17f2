"""Emailing notifications, each once: the worker side of the outbox.

`notification_deliver` claims one row with a conditional UPDATE (`pending` and due ->
`sending`, with a fresh claim token). PostgreSQL lets one UPDATE win: a second worker, or the
same task delivered twice, waits for the row lock, then finds it no longer `pending` and sends
nothing. The email goes out through Django's email backend with no transaction or lock held;
then the row is marked `sent` if it still carries our claim token, and `notification_sent` is
sent in that transaction. A failed send is recorded (`attempts`, and `last_error`, kept after a
later success) and the row goes back to `pending` with an exponentially later
`next_attempt_at`; after `NOTIFICATION_MAX_ATTEMPTS` it is `failed`.

A worker that dies between claiming and marking leaves the row `sending`; after
`NOTIFICATION_CLAIM_TIMEOUT` the relay takes it over. If the server had accepted that email,
it goes out twice: SMTP offers no way to ask, and a lost message is the worse failure here.
"""

import logging
import time
import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications.models import EmailStatus, Notification
from notifications.signals import notification_sent

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
FOOTER = "\n\n-- \nCareSlot. Sign in to see your appointments."


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # the send failed; another attempt is scheduled
    FAILED = "failed"  # the send failed for the last time, or cannot be made
    SKIPPED = "skipped"  # not ours to send: sent, being sent, not due, or gone


def _due(now: datetime) -> Q:
    """Rows an attempt may start on now: pending and due, or claimed by a worker long gone."""
    return Q(email_status=EmailStatus.PENDING, next_attempt_at__lte=now) | Q(
        email_status=EmailStatus.SENDING,
        claimed_at__lt=now - settings.NOTIFICATION_CLAIM_TIMEOUT,
    )


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: the backoff, doubling, at most 1 h."""
    return min(settings.NOTIFICATION_RETRY_BACKOFF * 2 ** (attempts - 1), MAX_BACKOFF)


def _claim(*, notification_id, now: datetime) -> UUID | None:
    claim = uuid.uuid4()
    claimed = Notification.objects.filter(_due(now), pk=notification_id).update(
        email_status=EmailStatus.SENDING,
        claim=claim,
        claimed_at=now,
        attempts=F("attempts") + 1,
    )
    return claim if claimed else None


def _attempt_failed(
    *, notification: Notification, claim: UUID, error: str, give_up: bool = False
) -> Outcome:
    """Record a failed attempt. The error's text (which may quote the address) is kept on the
    row only; the log names the notification and the kind of error."""
    now = timezone.now()
    final = give_up or notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS
    Notification.objects.filter(pk=notification.pk, claim=claim).update(
        email_status=EmailStatus.FAILED if final else EmailStatus.PENDING,
        last_error=error[:1000],
        next_attempt_at=now if final else now + retry_delay(notification.attempts),
        claim=None,
    )
    logger.warning(
        "Notification %s: email attempt %s failed%s (%s).",
        notification.pk,
        notification.attempts,
        " for the last time" if final else "",
        error.split(":", 1)[0],
    )
    return Outcome.FAILED if final else Outcome.RETRY


def notification_deliver(*, notification_id) -> Outcome:
    """Email one notification if it is due and nobody else is sending it; see the module's
    docstring for the claim and what happens on failure. Safe to call any number of times,
    from any number of workers at once: at most one call sends."""
    claim = _claim(notification_id=notification_id, now=timezone.now())
    if claim is None:
        return Outcome.SKIPPED
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    address = notification.recipient.email
    if not address:
        return _attempt_failed(
            notification=notification,
            claim=claim,
            error="The recipient has no email address.",
            give_up=True,
        )
    message = EmailMessage(
        subject=notification.title, body=notification.body + FOOTER, to=[address]
    )
    try:
        message.send()
    except Exception as error:  # whatever the backend raises, the attempt failed
        return _attempt_failed(
            notification=notification, claim=claim, error=f"{type(error).__name__}: {error}"
        )
    with transaction.atomic():
        marked = Notification.objects.filter(pk=notification.pk, claim=claim).update(
            email_status=EmailStatus.SENT, sent_at=timezone.now(), claim=None
        )
        if marked:
            notification_sent.send(sender=Notification, notification=notification)
    return Outcome.SENT


def notifications_relay(*, time_budget: float | None = None, limit: int | None = 1000) -> int:
    """Deliver every notification whose email is due (oldest first), at most `limit` (None:
    all), and start no new one after `time_budget` seconds. Returns how many were sent. Two
    relays at once share the work: each row is claimed by one of them."""
    started = time.monotonic()
    due = (
        Notification.objects.filter(_due(timezone.now()))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for notification_id in list(due):
        if time_budget is not None and time.monotonic() - started > time_budget:
            break
        if notification_deliver(notification_id=notification_id) == Outcome.SENT:
            sent += 1
    return sent
