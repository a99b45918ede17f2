"""Database expressions shared by the apps' constraints and queries, and the time limits of
what a process asks of PostgreSQL."""

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.contrib.postgres.fields import DateTimeRangeField
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.db.models import Func

P = ParamSpec("P")
R = TypeVar("R")


class TsTzRange(Func):
    """`tstzrange(start, end)`, half-open `[start, end)`: back-to-back ranges do not overlap."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


def lock_timeout_set(milliseconds: int) -> None:
    """Bound how long this transaction waits for any row lock; past it PostgreSQL raises
    LockNotAvailable, which the API answers as 503 with Retry-After."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{milliseconds}ms"])


def violated_constraint(error: IntegrityError) -> str | None:
    """The name of the constraint an IntegrityError broke, as PostgreSQL reports it."""
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


class PooledTimeoutMismatch(OperationalError):
    """The pooler's server connections carry another statement timeout than this process
    needs. A database error, so that the health check reports the database as down (the
    load balancer takes the host out) and requests answer 503, not 500."""


def statement_timeout_default(milliseconds: int) -> None:
    """From now on, every new database connection of this process cancels any statement that
    runs longer than `milliseconds` (PostgreSQL's `statement_timeout`; 0: never), so that no
    query holds a worker and its locks for ever. Called where a process starts: web processes
    (`config.wsgi`) with `DB_STATEMENT_TIMEOUT_MS`, Celery workers (`config.celery`) with
    `DB_LONG_STATEMENT_TIMEOUT_MS`; management commands and migrations keep PostgreSQL's own
    setting. A cancelled statement raises QueryCanceled, which the API answers as 503.

    Behind a pooler in transaction mode (`DATABASE_POOLER=transaction`) the process cannot
    set it: a `SET` stays on the server connection, for whichever client the pooler hands it
    to next, and this process's next transaction may run on another server connection. There
    the pooler's server connections carry the limit (PgBouncer's `connect_query`, one pooled
    database per process role: docs/deployment.md), and the process checks on its first
    connection that they carry this one: with another, it refuses to use the database
    (PooledTimeoutMismatch, saying what to set) rather than run with the wrong limit."""
    if settings.DATABASE_POOLER == "transaction":
        checked = False

        def timeout_checked(
            sender: object, connection: BaseDatabaseWrapper, **kwargs: object
        ) -> None:
            nonlocal checked
            if checked:
                return
            with connection.cursor() as cursor:
                cursor.execute("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'")
                carried = int(cursor.fetchone()[0])
            if carried != milliseconds:
                # Closed, so that the next query connects and checks again instead of running
                # on this connection with the wrong limit.
                connection.close()
                raise PooledTimeoutMismatch(
                    f"DATABASE_POOLER=transaction: the pooled connections carry "
                    f"statement_timeout={carried}ms, this process needs {milliseconds}ms. Set it "
                    f"on the pooler's database, e.g. PgBouncer's connect_query='SET "
                    f"statement_timeout = {milliseconds}' (docs/deployment.md)."
                )
            checked = True

        handler = timeout_checked
    else:

        def timeout_set(sender: object, connection: BaseDatabaseWrapper, **kwargs: object) -> None:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, false)", [f"{milliseconds}ms"]
                )

        handler = timeout_set

    # Called again, the last value holds.
    connection_created.disconnect(dispatch_uid="core.db.statement_timeout")
    connection_created.connect(handler, weak=False, dispatch_uid="core.db.statement_timeout")


def long_statements(function: Callable[P, R]) -> Callable[P, R]:
    """Run `function` in a transaction whose statements may each take up to
    `DB_LONG_STATEMENT_TIMEOUT_MS` (`SET LOCAL`: the connection's own limit is back after it),
    for reads over much data that a request waits for: the reports."""

    @wraps(function)
    def with_long_statements(*args: P.args, **kwargs: P.kwargs) -> R:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true)",
                    [f"{settings.DB_LONG_STATEMENT_TIMEOUT_MS}ms"],
                )
            return function(*args, **kwargs)

    return with_long_statements
