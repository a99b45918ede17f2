"""Background work without a broker: what `make run` does on a machine with no Redis.

`manage.py run_background` (started by scripts/run.sh beside gunicorn, stopped with it) runs
Celery's beat schedule (`CELERY_BEAT_SCHEDULE`) in its own process: each task once at start,
then whenever its schedule says, in-process (`task.apply()`, the same code a worker runs).
With `RELAY_IN_PROCESS`, the web processes send no email themselves: after the commit that
wrote a notification they wake this process with PostgreSQL's NOTIFY (`background_wake`), and
it runs the relay at once, so an email goes out just after the response, never inside it.
A wake names tasks of the schedule, separated by spaces; any other name is ignored.

One process does all of it, so a slow mail server delays the sweeps, never a request.
"""

import logging
import signal
import sys
import time
from datetime import datetime
from types import FrameType
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.db import close_old_connections, connection, connections

from core.db import statement_timeout_default

if TYPE_CHECKING:
    from celery import Celery
    from celery.schedules import BaseSchedule

logger = logging.getLogger(__name__)

WAKE_CHANNEL = "careslot_background"
# The longest wait between two looks at the schedule: a wake lost with a dropped connection
# costs at most this, and the relay's own schedule catches up anyway.
LONGEST_WAIT_SECONDS = 30.0


def background_wake(*, tasks: list[str]) -> None:
    """Ask the background process to run `tasks` (tasks of the beat schedule) now, in one
    NOTIFY. Inside a transaction the wake is sent at its commit, and not at all if it rolls
    back."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [WAKE_CHANNEL, " ".join(tasks)])


class BackgroundSchedule:
    """The beat schedule's tasks, each with when it last ran in this process."""

    def __init__(self, app: "Celery") -> None:
        from celery.schedules import maybe_schedule

        app.loader.import_default_modules()
        self.app = app
        # maybe_schedule makes a schedule of a number of seconds or a timedelta too.
        self.entries: dict[str, BaseSchedule] = {
            entry["task"]: cast("BaseSchedule", maybe_schedule(entry["schedule"], app=app))
            for entry in settings.CELERY_BEAT_SCHEDULE.values()
        }
        self.last_run: dict[str, datetime | None] = dict.fromkeys(self.entries)

    def run(self, task_name: str) -> datetime:
        """Run one task in this process; a failure is logged and left to its next turn (the
        tasks are idempotent, and the relay retries what it could not send)."""
        close_old_connections()
        try:
            result = self.app.tasks[task_name].apply()
            if result.failed():
                logger.error("Background task %s failed: %r", task_name, result.result)
        except Exception:
            logger.exception("Background task %s failed.", task_name)
        finally:
            finished = self.last_run[task_name] = self.app.now()
            close_old_connections()
        return finished

    def run_due(self) -> float:
        """Run every task that is due; the seconds until the next one is."""
        waits = [LONGEST_WAIT_SECONDS]
        for task_name, schedule in self.entries.items():
            last_run = self.last_run[task_name]
            if last_run is None or schedule.is_due(last_run)[0]:
                last_run = self.run(task_name)
            waits.append(schedule.is_due(last_run)[1])
        return max(0.0, min(waits))


def _stop(signum: int, frame: FrameType | None) -> None:
    sys.exit(0)


def background_serve() -> None:
    """Run the beat schedule and answer wakes until SIGTERM or SIGINT. A task cut off by the
    signal rolls back and runs again at the next start."""
    from config.celery import app

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    statement_timeout_default(settings.DB_LONG_STATEMENT_TIMEOUT_MS)
    schedule = BackgroundSchedule(app)
    listener = None
    while True:
        wait = schedule.run_due()
        try:
            if listener is None:
                listener = connections.create_connection("default")
                listener.ensure_connection()
                listener.connection.execute(f"LISTEN {WAKE_CHANNEL}")
            notices = list(listener.connection.notifies(timeout=wait, stop_after=1))
            # Whatever else arrived meanwhile is answered by the same run.
            notices += listener.connection.notifies(timeout=0)
            woken = {task for notice in notices for task in notice.payload.split()}
        except Exception:
            logger.exception("Waiting for wakes failed; listening again.")
            if listener is not None:
                listener.close()
            listener = None
            woken = set()
            time.sleep(min(wait, 5.0))
        for task_name in woken & schedule.entries.keys():
            schedule.run(task_name)
