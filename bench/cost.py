"""CPU per request of each benchmarked endpoint, in one process, without a server.

    python -m bench.cost [--requests 400] [--profile NAME]

Run after `make bench` (it reads the `careslot_bench` database the run left behind, and
books some of its free slots). Each endpoint is called through Django's test client, as the
seeded users, and for each the
Python CPU time of this process and the CPU time of its PostgreSQL backend are divided by
the number of requests. Other work on the machine barely moves these numbers, unlike
requests per second; they leave out what gunicorn and the network add (about 1.5 ms a
request here). `--profile NAME` prints a pyinstrument profile of that endpoint instead.
"""

import argparse
import json
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/careslot_bench")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("RATE_LIMITS_ENABLED", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# As `bench.run` serves bookings: notifications queued to the benchmark's own Redis database.
os.environ.setdefault("REDIS_URL", os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13"))
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")
os.environ.setdefault("MAX_ACTIVE_APPOINTMENTS_PER_PATIENT", "1000")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django

django.setup()

import psutil  # noqa: E402
import redis  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from accounts.models import User  # noqa: E402
from core.clinic_time import clinic_today  # noqa: E402
from doctors.models import Doctor, Specialization  # noqa: E402
from patients.models import Patient  # noqa: E402

WARM_UP = 30


def endpoints(count: int) -> dict:
    """name: a function returning (path, user, body) for one request, users drawn at random;
    a body means a POST."""
    patients = list(Patient.objects.select_related("user")[:200])
    doctors = list(Doctor.objects.select_related("user").order_by("license_number")[:100])
    specialization = Specialization.objects.order_by("name").first()
    assert specialization is not None, "seed the benchmark's clinic first (bench.seed)"
    day = (clinic_today() + timedelta(days=3)).isoformat()
    week_end = (clinic_today() + timedelta(days=9)).isoformat()
    bookings = iter(bookable_pairs(count + WARM_UP))
    return {
        "baseline": lambda: ("/api/v1/auth/me/", random.choice(patients).user, None),
        "slot_search": lambda: (
            f"/api/v1/slots/?specialization={specialization.pk}&date_from={day}&date_to={day}",
            random.choice(patients).user,
            None,
        ),
        "doctor_slots_week": lambda: (
            f"/api/v1/doctors/{random.choice(doctors).pk}/slots/"
            f"?date_from={day}&date_to={week_end}",
            random.choice(patients).user,
            None,
        ),
        "appointments_patient": lambda: (
            "/api/v1/appointments/",
            random.choice(patients).user,
            None,
        ),
        "appointments_doctor": lambda: (
            "/api/v1/appointments/",
            random.choice(doctors).user,
            None,
        ),
        "booking": lambda: next(bookings),
    }


def bookable_pairs(count: int) -> list[tuple[str, User, dict]]:
    """`count` bookings that succeed: free slots from tomorrow on, each for a patient with no
    active appointment at its time, never one patient twice at one time."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT s.id, s.start, p.user_id FROM scheduling_slot s
            JOIN doctors_doctor d ON d.user_id = s.doctor_id AND NOT d.is_blacklisted
            CROSS JOIN LATERAL (
                SELECT pp.user_id FROM patients_patient pp
                WHERE NOT EXISTS (
                    SELECT 1 FROM appointments_appointment a
                    WHERE a.patient_id = pp.user_id AND a.status IN ('pending', 'confirmed')
                    AND a.start < s."end" AND a."end" > s.start)
                ORDER BY md5(pp.user_id::text || s.id::text) LIMIT 1) p
            WHERE NOT s.is_booked AND s.start > now() + interval '1 day'
            ORDER BY s.start, s.id LIMIT %s
            """,
            [count * 2],
        )
        rows = cursor.fetchall()
    taken, pairs = set(), []
    for slot_id, start, patient_id in rows:
        if (patient_id, start) not in taken:
            taken.add((patient_id, start))
            pairs.append((slot_id, patient_id))
    users = User.objects.in_bulk([patient_id for _, patient_id in pairs])
    return [
        ("/api/v1/appointments/", users[patient_id], {"slot": str(slot_id)})
        for slot_id, patient_id in pairs[:count]
    ]


def measure(client: Client, request, count: int, tokens: dict) -> tuple[float, float]:
    def call():
        path, user, body = request()
        token = tokens.setdefault(user.pk, str(AccessToken.for_user(user)))
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        if body is None:
            response, expected = client.get(path, **headers), 200
        else:
            response = client.post(
                path, data=json.dumps(body), content_type="application/json", **headers
            )
            expected = 201
        assert response.status_code == expected, (path, response.status_code)

    for _ in range(WARM_UP):  # imports, caches, the connection
        call()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = psutil.Process(cursor.fetchone()[0])
    before_db, before = backend.cpu_times(), time.process_time()
    for _ in range(count):
        call()
    after_db = backend.cpu_times()
    python = (time.process_time() - before) / count * 1000
    database = (after_db.user + after_db.system - before_db.user - before_db.system) / count
    return python, database * 1000


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cost")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--profile", default="")
    args = parser.parse_args(argv)
    client, requests = Client(), endpoints(args.requests)
    tokens: dict[Any, Any] = {}
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
        measure(client, requests[args.profile], args.requests, tokens)
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False))
        return
    base = None
    print(
        f"{'endpoint':22} {'python ms':>9} {'postgres ms':>11} {'total ms':>8} {'x baseline':>10}"
    )
    for name, request in requests.items():
        python, database = measure(client, request, args.requests, tokens)
        total = python + database
        base = base or total
        print(f"{name:22} {python:9.2f} {database:11.2f} {total:8.2f} {base / total:10.2f}")
    # No worker runs: the bookings' queued deliveries would wait in the benchmark's Redis.
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()


if __name__ == "__main__":
    main(sys.argv[1:])
