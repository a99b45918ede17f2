"""Celery tasks of the notifications app: they take ids, and running one twice sends nothing
twice (see `notifications.delivery`)."""

from celery import shared_task

from config.celery import TASK_OPTIONS
from notifications import delivery

# The relay stops taking new rows well before the soft time limit (60 s), so that a slow
# mail server never gets a send cut off half way; what is left waits for the next run.
RELAY_TIME_BUDGET = 40.0


@shared_task(name="notifications.deliver", **TASK_OPTIONS)
def notification_deliver(notification_id: str) -> str:
    """Email one notification (queued after the commit that wrote it)."""
    return delivery.notification_deliver(notification_id=notification_id)


@shared_task(name="notifications.relay", **TASK_OPTIONS)
def notifications_relay() -> int:
    """Email everything due: what the broker never got, and failed attempts due again."""
    return delivery.notifications_relay(time_budget=RELAY_TIME_BUDGET)
