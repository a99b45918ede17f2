"""Statements built once and sent together: for the hot write paths (a booking), where
building a query through the ORM costs more than PostgreSQL takes to run it.

- `Statement`: SQL, its parameters and how to read its rows. `statements_run` sends several
  in one round trip (psycopg's pipeline mode): PostgreSQL runs them one after the other, in
  the order given, each with its own snapshot, exactly as if sent one by one, so locks are
  taken in that order and a statement after a lock reads what the lock made current.
- `RowWrites`: model instances to insert and rows to update, sent as one data-modifying
  `WITH` statement. Columns and values come from the models' fields (their defaults,
  `pre_save`, encryption), so a new field needs no change here.

Both go through Django's cursors: the statements show in `connection.queries`, in
`CaptureQueriesContext` and in execute wrappers like every other query.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, TypeVar, cast

from django.db import connection
from django.db.models import Field, Model

T = TypeVar("T")


@dataclass(frozen=True)
class Statement(Generic[T]):
    """One SQL statement with its parameters, and `read`, which makes its result of its rows."""

    sql: str
    params: Sequence[Any] | Mapping[str, Any]
    read: Callable[[list[tuple[Any, ...]]], T]

    def run(self) -> T:
        """Send it alone."""
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params)
            return self.read(cursor.fetchall())


def statements_run(*statements: Statement[Any]) -> list[Any]:
    """Run `statements` in order in one round trip; each one's result, in the same order. The
    first that fails raises its error, and PostgreSQL skips those after it."""
    if len(statements) == 1:
        return [statements[0].run()]
    connection.ensure_connection()
    cursors = [connection.cursor() for _ in statements]
    try:
        # The pipeline raises psycopg's own errors as it ends; wrapped, they are Django's
        # (a lock timeout an OperationalError, a violation an IntegrityError), as elsewhere.
        with connection.wrap_database_errors, connection.connection.pipeline():
            for cursor, statement in zip(cursors, statements, strict=True):
                cursor.execute(statement.sql, statement.params)
        return [
            statement.read(cursor.fetchall())
            for cursor, statement in zip(cursors, statements, strict=True)
        ]
    finally:
        for cursor in cursors:
            cursor.close()


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


@cache
def _fields(model: type[Model], names: tuple[str, ...] | None) -> list[Any]:
    return [f for f in model._meta.concrete_fields if names is None or f.name in names]


def columns_of(model: type[Model], alias: str, names: tuple[str, ...] | None = None) -> str:
    """The select list of `model`'s concrete fields (those in `names`, if given) read from the
    table aliased `alias`, for `row_model`."""
    return ", ".join(f"{alias}.{_quote(f.column)}" for f in _fields(model, names))


M = TypeVar("M", bound=Model)


def row_model(model: type[M], values: Sequence[Any], names: tuple[str, ...] | None = None) -> M:
    """The instance of a row read with `columns_of(model, …, names)`, as the ORM would build
    it (fields left out are deferred: reading one queries)."""
    return model.from_db("default", [f.attname for f in _fields(model, names)], list(values))


@cache
def _insert_columns(model: type[Model]) -> tuple[list[Any], str]:
    """The fields an INSERT of `model` writes (all concrete fields but a database-generated
    key) and the statement's head."""
    fields = [
        field
        for field in model._meta.concrete_fields
        if not (field.primary_key and getattr(field, "db_returning", False))
    ]
    columns = ", ".join(_quote(field.column) for field in fields)
    return fields, f"INSERT INTO {_quote(model._meta.db_table)} ({columns}) VALUES "  # noqa: S608


class RowWrites:
    """Inserts and updates sent to PostgreSQL as one statement.

    `insert` prepares each instance's values at once (defaults, `auto_now`, encryption), as
    `Model.save` would, so that the instance reads as saved afterwards (without an id the
    database generates). `update` sets columns of one row by its primary key. `run` sends all
    of it: `WITH w1 AS (…), w2 AS (…) <last>`. PostgreSQL runs every part on one snapshot, and
    each row's constraints are checked as it is written (foreign keys at the end, deferred),
    so rows may refer to each other in any order. No signals are sent and `save()` is not
    called: models written here must not rely on either.
    """

    def __init__(self) -> None:
        self._parts: list[tuple[str, list[Any]]] = []
        self._inserts: dict[type[Model], list[list[Any]]] = {}

    def insert(self, *rows: Model) -> None:
        for row in rows:
            fields, _ = _insert_columns(type(row))
            values = [
                field.get_db_prep_save(field.pre_save(row, True), connection) for field in fields
            ]
            row._state.adding = False
            row._state.db = "default"
            self._inserts.setdefault(type(row), []).append(values)

    def update(self, model: type[Model], pk: Any, **values: Any) -> None:
        meta = model._meta
        key = meta.pk
        assert key is not None  # every concrete model has one
        assignments, params = [], []
        for name, value in values.items():
            field = cast("Field[Any, Any]", meta.get_field(name))
            assignments.append(f"{_quote(field.column)} = %s")
            params.append(field.get_db_prep_save(value, connection))
        params.append(key.get_db_prep_value(pk, connection))
        self._parts.append(
            (
                f"UPDATE {_quote(meta.db_table)} SET {', '.join(assignments)} "  # noqa: S608
                f"WHERE {_quote(key.column)} = %s",
                params,
            )
        )

    def statement(self) -> tuple[str, list[Any]]:
        parts = list(self._parts)
        for model, rows in self._inserts.items():
            _, head = _insert_columns(model)
            row_sql = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
            parts.append((head + ", ".join([row_sql] * len(rows)), [v for r in rows for v in r]))
        *leading, (last_sql, last_params) = parts
        if not leading:
            return last_sql, last_params
        ctes = ", ".join(f"w{index} AS ({sql})" for index, (sql, _) in enumerate(leading))
        params = [value for _, values in leading for value in values]
        return f"WITH {ctes} {last_sql}", [*params, *last_params]

    def run(self) -> None:
        if not self._parts and not self._inserts:
            return
        sql, params = self.statement()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
