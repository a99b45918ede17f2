"""Celery tasks of the webhooks app: they take ids, and running one twice calls nothing twice
(see `webhooks.delivery`)."""

from celery import shared_task

from config.celery import TASK_OPTIONS
from webhooks import delivery

# Each call may take up to the connect and read timeouts; the relay starts no new one after
# this, well inside the soft time limit (60 s).
RELAY_TIME_BUDGET = 30.0


@shared_task(name="webhooks.deliver", **TASK_OPTIONS)
def webhook_deliver(delivery_id: str) -> str:
    """Make one delivery (queued after the commit that wrote it)."""
    return delivery.webhook_deliver(delivery_id=delivery_id)


@shared_task(name="webhooks.relay", **TASK_OPTIONS)
def webhooks_relay() -> int:
    """Make every delivery due: what the broker never got, and failed attempts due again."""
    return delivery.webhooks_relay(time_budget=RELAY_TIME_BUDGET)
