"""The Celery task of every outbox (`core.outbox`): the rows one transaction wrote, in one
message."""

from time import monotonic

from celery import current_app, shared_task

from config.celery import TASK_OPTIONS

# One row's send takes at most its outbox's connect and read timeouts (about 13 s for a
# webhook call); no new row is started after this, well inside the soft time limit (60 s),
# so that no send is cut off half way. What is left is pending and due: the relays send it.
TIME_BUDGET = 30.0


@shared_task(name="outbox.deliver", **TASK_OPTIONS)
def outbox_deliver(rows: dict[str, list[str]]) -> dict[str, list[str]]:
    """Send the outbox rows of one committed transaction: `rows` maps the name of each
    outbox's deliver task (which takes one row's id) to the ids of its rows. Each row is
    claimed and sent by that task's own code, in this worker, one after another, none
    started after `TIME_BUDGET` seconds (those are left to the relays); a row another worker
    has, or has sent, is skipped there, so running this twice sends nothing twice. Returns
    each row's outcome, `left` for those left to the relays."""
    started = monotonic()
    outcomes: dict[str, list[str]] = {}
    for name, ids in rows.items():
        for row_id in ids:
            if monotonic() - started > TIME_BUDGET:
                outcome = "left"
            else:
                outcome = current_app.tasks[name].run(row_id)
            outcomes.setdefault(name, []).append(outcome)
    return outcomes
