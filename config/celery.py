"""The Celery app: `celery -A config worker` and `celery -A config beat`.

Configured from Django's settings under the `CELERY_` namespace (see `config/settings/base.py`):
the broker and result backend are `REDIS_URL`; with `REDIS_URL` unset, tasks run in-process
(`task_always_eager`). Tasks live in each app's `tasks.py`, found by `autodiscover_tasks`.
"""

import os
from typing import TypedDict

from celery import Celery
from celery.signals import worker_init
from django.conf import settings
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerOperationalError

from core.db import statement_timeout_default

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("careslot")
app.config_from_object("django.conf:settings", namespace="CELERY")
# celery-redbeat (the beat scheduler) asks for its settings by their bare names, which the
# CELERY_ namespace hides from it: given them so, it uses them instead of the broker's.
app.conf.update(
    {
        name.removeprefix("CELERY_").lower(): getattr(settings, name)
        for name in dir(settings)
        if name.startswith("CELERY_REDBEAT_")
    }
)
app.autodiscover_tasks()

# Failures worth another try of a whole task: the database went away or a lock wait timed
# out (LockNotAvailable is an OperationalError), a statement ran past its timeout (QueryCanceled,
# one too), or the broker was briefly unreachable.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, BrokerOperationalError)


# The options every CareSlot task shares: retried with exponential backoff (and jitter) on
# transient errors, bounded in time. Tasks take ids and are idempotent, so a retry, or a
# message delivered twice (acks_late), does the work once.
class TaskOptions(TypedDict):
    autoretry_for: tuple[type[BaseException], ...]
    retry_backoff: int
    retry_backoff_max: int
    retry_jitter: bool
    max_retries: int
    soft_time_limit: int
    time_limit: int


TASK_OPTIONS: TaskOptions = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
    "soft_time_limit": 60,
    "time_limit": 90,
}


@worker_init.connect
def statement_timeout_of_workers(**kwargs) -> None:
    """A worker's statements (the sweeps, the relay, the slot extension) may take up to
    `DB_LONG_STATEMENT_TIMEOUT_MS`; one cancelled is a transient error, retried."""
    statement_timeout_default(settings.DB_LONG_STATEMENT_TIMEOUT_MS)
