"""Celery tasks of the waitlist app (scheduled by beat): idempotent, safe to overlap."""

from celery import shared_task

from config.celery import TASK_OPTIONS
from waitlist.services import waitlist_offers_expire


@shared_task(name="waitlist.offers_expire", **TASK_OPTIONS)
def offers_expire() -> int:
    """Every minute: expired offers pass to the next entry waiting."""
    return waitlist_offers_expire()
