"""Celery tasks of the scheduling app (scheduled by beat)."""

from celery import shared_task

from config.celery import TASK_OPTIONS
from scheduling import services


@shared_task(name="scheduling.slots_extend", **TASK_OPTIONS)
def slots_extend() -> int:
    """Daily: generate weekly-rule slots through the booking horizon (idempotent)."""
    return services.slots_extend()
