"""CareSlot's project package. The Celery app is loaded with Django, so that `shared_task`s
bind to it and `transaction.on_commit(task.delay)` publishes to the configured broker."""

from config.celery import app as celery_app

__all__ = ["celery_app"]
