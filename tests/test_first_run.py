"""The README's `make run` on a machine with nothing set up: no PostgreSQL server, no Redis.

A fresh clone of the working tree runs `make run` with `DATABASE_URL=embedded` and `REDIS_URL`
empty, with the system's PostgreSQL and Redis programs shadowed on the PATH by ones that fail.
Through the API an admin publishes a doctor's hour and a patient registers and books it; the
booking's email goes out after the response, sent by the process beside the web server, from a
mail server slow enough to show it. Stopped like a terminal stops it (SIGINT to the group), the
embedded server stops too; started again, it finds the booking. Only the dependencies are not
installed afresh: `.venv` is this one's (installing them takes minutes and the network).
"""

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.background import Mailbox, free_port
from tests.servers import BASE_DIR, http_get, http_json

STARTUP_SECONDS = 180
SHUTDOWN_SECONDS = 60
SMTP_DELAY_SECONDS = 3.0
# What a machine without PostgreSQL or Redis lacks; a program of these names found on the PATH
# fails, so nothing in the first run may lean on them.
SHADOWED = ("postgres", "pg_ctl", "pg_ctlcluster", "initdb", "psql", "redis-server", "redis-cli")
ADMIN = ("first-run-admin", "first-run-admin-password-1")
PATIENT = ("first.patient", "first-run-patient-password-1")


class SlowMailbox(Mailbox):
    """A mail server that takes its time over each message, as a remote one may."""

    async def handle_DATA(self, server, session, envelope) -> str:
        await asyncio.sleep(SMTP_DELAY_SECONDS)
        return await super().handle_DATA(server, session, envelope)


def fresh_clone(target: Path) -> Path:
    """The repository's files as a clone of the working tree has them (tracked and new, not
    ignored: no .venv, .data, staticfiles or .env), with this .venv linked in."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],  # noqa: S607
        cwd=BASE_DIR,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = BASE_DIR / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(source.read_bytes())
            (target / name).chmod(source.stat().st_mode)
    (target / ".venv").symlink_to((BASE_DIR / ".venv").resolve())
    return target


def machine_env(clone: Path, *, port: int, smtp_port: int) -> dict[str, str]:
    shadow = clone.parent / "shadow-bin"
    shadow.mkdir(exist_ok=True)
    for program in SHADOWED:
        (shadow / program).write_text(f"#!/bin/sh\necho '{program}: not installed' >&2\nexit 127\n")
        (shadow / program).chmod(0o755)
    kept = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "DATABASE_", "REDIS_", "PG", "CELERY_", "EMAIL_"))
    }
    return {
        **kept,
        "PATH": f"{shadow}:{os.environ['PATH']}",
        "DATABASE_URL": "embedded",
        "REDIS_URL": "",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        # gunicorn's control socket has one default path per user: this one would delete the
        # socket of a developer's running `make run`.
        "GUNICORN_CMD_ARGS": "--no-control-socket",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
    }


@contextmanager
def make_run(clone: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """`make run` in `clone` until it answers /health/: yields its base URL; then stops it as
    Ctrl-C in its terminal would, and waits for it to finish."""
    base = f"http://127.0.0.1:{env['PORT']}"
    with log.open("a") as output:
        process = subprocess.Popen(
            ["make", "run"],  # noqa: S607
            cwd=clone,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while http_status(f"{base}/api/v1/health/") != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"make run did not serve (exit {process.poll()}):\n{log.read_text()}")
            time.sleep(0.3)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(SHUTDOWN_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"make run did not stop on SIGINT:\n{log.read_text()}")


def http_status(url: str) -> int:
    try:
        return http_get(url)[0]
    except OSError:
        return 0


def signed_in(base: str, username: str, password: str) -> str:
    status, body = http_json(
        "POST", f"{base}/api/v1/auth/token/", body={"username": username, "password": password}
    )
    assert status == 200, body
    return body["access"]


def clinic_with_a_booking(base: str, clone: Path, env: dict[str, str]) -> tuple[str, float]:
    """An admin (made by `manage.py createsuperuser`, itself on DATABASE_URL=embedded), a doctor
    with one free hour tomorrow, and a patient who books it: (the appointment's id, how long
    the booking request took)."""
    created = subprocess.run(
        [".venv/bin/python", "manage.py", "createsuperuser", "--noinput"],
        cwd=clone,
        env={
            **env,
            "DJANGO_SUPERUSER_USERNAME": ADMIN[0],
            "DJANGO_SUPERUSER_EMAIL": "admin@first-run.test",
            "DJANGO_SUPERUSER_PASSWORD": ADMIN[1],
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    # It found the server `make run` started, and left it running.
    assert "Started the embedded PostgreSQL" not in created.stderr

    admin = signed_in(base, *ADMIN)
    status, specialization = http_json(
        "POST", f"{base}/api/v1/specializations/", body={"name": "General practice"}, token=admin
    )
    assert status == 201, specialization
    status, doctor = http_json(
        "POST",
        f"{base}/api/v1/doctors/",
        body={
            "username": "dr.first",
            "email": "dr.first@first-run.test",
            "password": "first-run-doctor-password-1",
            "first_name": "Farah",
            "last_name": "First",
            "specialization": specialization["id"],
            "license_number": "FIRST-RUN-1",
            "years_of_experience": 9,
        },
        token=admin,
    )
    assert status == 201, doctor
    start = (datetime.now(UTC) + timedelta(days=1)).replace(hour=10, minute=0, microsecond=0)
    status, window = http_json(
        "POST",
        f"{base}/api/v1/availability/",
        body={
            "doctor": doctor["id"],
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
        },
        token=admin,
    )
    assert status == 201, window

    status, patient = http_json(
        "POST",
        f"{base}/api/v1/patients/",
        body={
            "username": PATIENT[0],
            "email": "first.patient@first-run.test",
            "password": PATIENT[1],
            "first_name": "Flora",
            "last_name": "Patient",
            "date_of_birth": "1988-04-02",
        },
    )
    assert status == 201, patient
    token = signed_in(base, *PATIENT)
    started = time.monotonic()
    status, appointment = http_json(
        "POST",
        f"{base}/api/v1/appointments/",
        body={"slot": window["slots"][0]["id"], "reason": "First run"},
        token=token,
    )
    took = time.monotonic() - started
    assert status == 201, appointment
    return appointment["id"], took


def embedded_server_running(clone: Path) -> bool:
    return (clone / ".data" / "postgres" / "postmaster.pid").exists()


@pytest.mark.timeout(600)
def test_make_run_on_a_machine_with_nothing_set_up_keeps_its_bookings(tmp_path, embedded_workdir):
    clone = fresh_clone(embedded_workdir / "careslot")
    log = tmp_path / "make-run.log"
    mailbox, smtp_port = SlowMailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    env = machine_env(clone, port=free_port(), smtp_port=smtp_port)
    try:
        first_start = time.monotonic()
        with make_run(clone, env, log) as base:
            served_after = time.monotonic() - first_start
            appointment_id, booking_took = clinic_with_a_booking(base, clone, env)
            # The email is not sent inside the booking request (the mail server takes 3 s
            # over it) but just after, by the process beside the web server.
            assert booking_took < SMTP_DELAY_SECONDS, booking_took
            deadline = time.monotonic() + 30
            while not mailbox.subjects_to("first.patient@first-run.test"):
                assert time.monotonic() < deadline, f"no email:\n{log.read_text()}"
                time.sleep(0.2)
        assert not embedded_server_running(clone), log.read_text()

        with make_run(clone, env, log) as base:
            token = signed_in(base, *PATIENT)
            status, page = http_json("GET", f"{base}/api/v1/appointments/", token=token)
            assert status == 200, page
            assert [row["id"] for row in page["results"]] == [appointment_id]
        assert not embedded_server_running(clone)
    finally:
        controller.stop()

    output = log.read_text()
    assert "DATABASE_URL=embedded: started the embedded PostgreSQL 18." in output
    assert "No Redis: the beat schedule and the email relay run in one process" in output
    assert output.count("Stopped the embedded PostgreSQL.") == 2
    print(f"first make run served after {served_after:.1f} s; booking took {booking_took:.2f} s")
