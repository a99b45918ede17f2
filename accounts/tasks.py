"""Celery tasks of the accounts app (scheduled by beat)."""

from celery import shared_task
from django.core.management import call_command

from config.celery import TASK_OPTIONS


@shared_task(name="accounts.expired_tokens_flush", **TASK_OPTIONS)
def expired_tokens_flush() -> None:
    """Daily: forget expired refresh tokens (and their blacklist entries), with simplejwt's
    own `flushexpiredtokens`; a token past its expiry is refused anyway."""
    call_command("flushexpiredtokens")
