"""The Celery task of every outbox (`core.outbox`): the rows one transaction wrote, in one
message."""

from celery import current_app, shared_task

from config.celery import TASK_OPTIONS


@shared_task(name="outbox.deliver", **TASK_OPTIONS)
def outbox_deliver(rows: dict[str, list[str]]) -> dict[str, list[str]]:
    """Send the outbox rows of one committed transaction: `rows` maps the name of each
    outbox's deliver task (which takes one row's id) to the ids of its rows. Each row is
    claimed and sent by that task's own code, in this worker, one after another; a row
    another worker has, or has sent, is skipped there, so running this twice sends nothing
    twice. Returns each row's outcome."""
    return {
        name: [current_app.tasks[name].run(row_id) for row_id in ids] for name, ids in rows.items()
    }
