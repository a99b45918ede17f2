"""Emailing notifications, each once: the worker side of the outbox (`core.outbox` claims,
retries and relays the rows).

The email goes out through Django's email backend with no transaction or lock held; then the
row is marked `sent` if it still carries our claim token, and `notification_sent` is sent in
that transaction. A failed send is retried after `NOTIFICATION_RETRY_BACKOFF`, doubling; after
`NOTIFICATION_MAX_ATTEMPTS` the row is `failed` (`last_error` is kept after a later success).

A worker that dies between claiming and marking leaves the row `sending`; after
`NOTIFICATION_CLAIM_TIMEOUT` the relay takes it over. If the server had accepted that email,
it goes out twice: SMTP offers no way to ask, and a lost message is the worse failure here.
"""

from django.core.mail import EmailMessage
from django.utils import timezone

from core.outbox import Outbox, Outcome
from notifications.models import Notification
from notifications.signals import notification_sent

FOOTER = "\n\n-- \nCareSlot. Sign in to see your appointments."

outbox = Outbox(model=Notification, status_field="email_status", settings_prefix="NOTIFICATION")


def notification_deliver(*, notification_id) -> Outcome:
    """Email one notification if it is due and nobody else is sending it; see the module's
    docstring for the claim and what happens on failure. Safe to call any number of times,
    from any number of workers at once: at most one call sends."""
    claim = outbox.claim(pk=notification_id)
    if claim is None:
        return Outcome.SKIPPED
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    address = notification.recipient.email
    if not address:
        return outbox.attempt_failed(
            row=notification,
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
        return outbox.attempt_failed(
            row=notification, claim=claim, error=f"{type(error).__name__}: {error}"
        )
    outbox.mark_sent(
        row=notification,
        claim=claim,
        sent_at=timezone.now(),
        on_marked=lambda: notification_sent.send(sender=Notification, notification=notification),
    )
    return Outcome.SENT


def notifications_relay(*, time_budget: float | None = None, limit: int | None = 1000) -> int:
    """Email every notification whose email is due (oldest first), at most `limit` (None:
    all), and start no new one after `time_budget` seconds. Returns how many were sent. Two
    relays at once share the work: each row is claimed by one of them."""
    return outbox.relay(
        lambda pk: notification_deliver(notification_id=pk), time_budget=time_budget, limit=limit
    )
