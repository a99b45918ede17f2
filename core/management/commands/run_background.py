from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from core.background import background_serve


class Command(BaseCommand):
    help = (
        "Run the beat schedule in this process, without a broker, and the relay whenever a web "
        "process wakes it (core/background.py): `make run` without Redis. Stops on SIGTERM."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        tasks = ", ".join(entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values())
        self.stdout.write(
            f"Background work in this process, at start and on its schedule: {tasks}."
        )
        background_serve()
