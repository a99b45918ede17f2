"""CareSlot behind PgBouncer (Debian's package) in transaction mode, as docs/deployment.md
runs it: `DATABASE_POOLER=transaction`.

A pool smaller than its clients makes every transaction of gunicorn's workers and of the
background jobs run on whichever server connection is free. Afterwards each server
connection is looked at from inside: nothing of a transaction may be left on it (a session
setting, a session-level advisory lock, a cursor, a prepared statement, a temporary table),
and the statement timeout it carries is still the one its pooled database gives it.
"""

import subprocess
import sys
from collections import Counter

import pytest

from core.checks import transaction_pooler_check
from tests.background import free_port
from tests.booking_load import Booking, access_token, book_at_once
from tests.factories import DoctorFactory, PatientFactory
from tests.pooler import PooledDatabase, pgbouncer_serving, server_connections_state
from tests.schedule import slot_published
from tests.servers import BASE_DIR, gunicorn_serving, http_get, production_env

POOL_SIZE = 2
WEB = PooledDatabase("careslot_web", statement_timeout_ms=5000)
WORKER = PooledDatabase("careslot_worker", statement_timeout_ms=20000)
CLEAN = {"settings": [], "advisory_locks": 0, "cursors": 0, "prepared": 0, "temporary_tables": 0}


@pytest.fixture(scope="module")
def pooler(django_db_setup, tmp_path_factory):
    with pgbouncer_serving(
        tmp_path_factory.mktemp("pgbouncer"),
        [WEB, WORKER],
        host="127.0.0.1",
        port=free_port(),
        pool_size=POOL_SIZE,
    ) as pooler:
        yield pooler


def _pooled_env(pooler, database: PooledDatabase, static_root, **extra: str) -> dict[str, str]:
    return {
        **production_env(static_root),
        "DATABASE_URL": pooler.url(database),
        "DATABASE_POOLER": "transaction",
        "DB_CONN_MAX_AGE": "60",
        "RATE_LIMITS_ENABLED": "false",
        **extra,
    }


def _left_on(pooler, database: PooledDatabase) -> list[dict]:
    states = server_connections_state(pooler, database, POOL_SIZE)
    assert len({state["backend"] for state in states}) == POOL_SIZE
    return states


def _clean(states: list[dict], timeout_ms: int) -> bool:
    return all(
        {key: state[key] for key in CLEAN} == CLEAN and state["statement_timeout_ms"] == timeout_ms
        for state in states
    )


@pytest.mark.django_db(transaction=True)
def test_a_booking_race_through_the_pooler_books_once_and_leaves_nothing_behind(pooler, tmp_path):
    slot = slot_published(DoctorFactory())
    patients = [PatientFactory() for _ in range(12)]
    env = _pooled_env(pooler, WEB, tmp_path / "static")

    with gunicorn_serving(env, workers=3) as base:
        bookings = book_at_once(
            base, [Booking(token=access_token(p.user), slot_id=str(slot.pk)) for p in patients]
        )
        assert http_get(f"{base}/api/v1/health/")[0] == 200

    assert Counter(b.status for b in bookings) == {201: 1, 409: 11}, [b.body for b in bookings]
    states = _left_on(pooler, WEB)
    assert _clean(states, WEB.statement_timeout_ms), states


def _manage_shell(env: dict[str, str], code: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 (fixed arguments)
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# Every periodic task and a delivery, run by a process set up as a worker is (its statement
# timeout from config.celery), in-process (no broker): the sweeps' skip-locked row locks, the
# slot extension's schedule advisory locks, the relay's claims.
WORKER_JOBS = """
from django.conf import settings
from config.celery import app
from core.db import statement_timeout_default
statement_timeout_default(settings.DB_LONG_STATEMENT_TIMEOUT_MS)
app.loader.import_default_modules()
for name in sorted(entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()):
    print(name, app.tasks[name].apply().get())
"""


@pytest.mark.django_db(transaction=True)
def test_every_background_job_through_the_pooler_leaves_nothing_behind(pooler, tmp_path):
    from tests.appointments.timeline import appointment_at

    doctor = DoctorFactory()
    slot_published(doctor)
    appointment_at(doctor, PatientFactory(), hours=-3)  # a no-show for the sweep
    appointment_at(doctor, PatientFactory(), hours=20)  # a reminder is due
    env = _pooled_env(pooler, WORKER, tmp_path / "static", REDIS_URL="")

    done = _manage_shell(env, WORKER_JOBS)

    assert done.returncode == 0, done.stderr[-3000:]
    assert "appointments.no_show_sweep {'no_shows': 1, 'cancelled': 0}" in done.stdout, done.stdout
    states = _left_on(pooler, WORKER)
    assert _clean(states, WORKER.statement_timeout_ms), states


@pytest.mark.django_db(transaction=True)
def test_without_database_pooler_a_process_leaves_its_timeout_on_other_clients_connections(
    pooler, tmp_path
):
    """Why the setting exists: a process that sets its own statement timeout (as it does on a
    direct connection) leaves it on the pooled server connection, for other clients."""
    slot = slot_published(DoctorFactory())
    env = _pooled_env(pooler, WEB, tmp_path / "static", DB_STATEMENT_TIMEOUT_MS="4321")
    del env["DATABASE_POOLER"]

    with gunicorn_serving(env, workers=1) as base:
        bookings = book_at_once(
            base, [Booking(token=access_token(PatientFactory().user), slot_id=str(slot.pk))]
        )

    assert bookings[0].status == 201
    states = _left_on(pooler, WEB)
    assert 4321 in {state["statement_timeout_ms"] for state in states}, states
    assert not _clean(states, WEB.statement_timeout_ms)


CONNECT = """
from django.db import connection
from core.db import statement_timeout_default
statement_timeout_default(4321)
for attempt in range(2):
    try:
        connection.ensure_connection()
        print("connected")
    except Exception as error:
        print(type(error).__name__, error)
"""


@pytest.mark.django_db(transaction=True)
def test_a_process_refuses_pooled_connections_that_carry_another_statement_timeout(
    pooler, tmp_path
):
    done = _manage_shell(_pooled_env(pooler, WEB, tmp_path / "static"), CONNECT)

    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith(("connected", "Pooled"))]
    assert len(lines) == 2, done.stdout
    for line in lines:
        assert line.startswith("PooledTimeoutMismatch "), line
        assert "statement_timeout=5000ms, this process needs 4321ms" in line
        assert "connect_query='SET statement_timeout = 4321'" in line


@pytest.mark.django_db(transaction=True)
def test_a_misconfigured_pooler_takes_the_web_host_out_of_the_load_balancer(pooler, tmp_path):
    env = _pooled_env(pooler, WEB, tmp_path / "static", DB_STATEMENT_TIMEOUT_MS="4321")
    with gunicorn_serving(env, workers=1) as base:
        status, _, body = http_get(f"{base}/api/v1/health/")
    assert status == 503, body
    assert b'"database":"down"' in body


@pytest.mark.parametrize(
    ("database_change", "error_id"),
    [
        ({"DISABLE_SERVER_SIDE_CURSORS": False}, "careslot.E002"),
        ({"OPTIONS": {"server_side_binding": True, "prepare_threshold": 5}}, "careslot.E003"),
        ({"OPTIONS": {"assume_role": "clinic"}}, "careslot.E004"),
    ],
    ids=["server-side-cursors", "prepared-statements", "set-role"],
)
def test_the_system_check_refuses_what_would_carry_state_across_pooled_transactions(
    settings, monkeypatch, database_change, error_id
):
    database = settings.DATABASES["default"]
    settings.DATABASE_POOLER = "transaction"
    monkeypatch.setitem(database, "DISABLE_SERVER_SIDE_CURSORS", True)
    assert transaction_pooler_check(None) == []

    for key, value in database_change.items():
        monkeypatch.setitem(database, key, value)
    assert [error.id for error in transaction_pooler_check(None)] == [error_id]

    settings.DATABASE_POOLER = ""
    assert transaction_pooler_check(None) == []
