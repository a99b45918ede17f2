"""Database expressions shared by the apps' constraints and queries."""

from django.contrib.postgres.fields import DateTimeRangeField
from django.db import IntegrityError, connection
from django.db.models import Func


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
