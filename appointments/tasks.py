"""Celery tasks of the appointments app (scheduled by beat): idempotent, safe to overlap."""

from celery import shared_task

from appointments import sweeps
from config.celery import TASK_OPTIONS


@shared_task(name="appointments.no_show_sweep", **TASK_OPTIONS)
def no_show_sweep() -> dict[str, int]:
    """Every `NO_SHOW_SWEEP_MINUTES`: no-shows and pending appointments not confirmed in time."""
    result = sweeps.no_show_sweep()
    return {"no_shows": result.no_shows, "cancelled": result.cancelled}


@shared_task(name="appointments.reminders_send", **TASK_OPTIONS)
def reminders_send() -> int:
    """Every few minutes: the reminders that have come due."""
    return sweeps.reminders_send()


@shared_task(name="appointments.idempotency_records_purge", **TASK_OPTIONS)
def idempotency_records_purge() -> int:
    """Hourly: forget the idempotency records past `IDEMPOTENCY_KEY_TTL`."""
    return sweeps.idempotency_records_purge()
