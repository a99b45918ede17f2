"""Seed the benchmark database fast, and mint what the load generator needs.

Run by `bench/run.py` in its own process with the benchmark's environment (the same settings
as the server):

    python -m bench.seed base --out DATA.json      # 100 doctors x 30 days x 8 slots, 30 % booked
    python -m bench.seed scale --slots 240000      # more doctors until the table holds that many
    python -m bench.seed pgbench-pairs --count N   # (slot, patient) pairs for pgbench's script

Users, doctors and patients go in with `bulk_create` (one password hash shared by all, so
seeding does not spend minutes in PBKDF2; the encrypted patient fields are encrypted by their
model field as usual); windows, slots, appointments and their history go in with COPY. Every
invariant the services keep holds in the seeded data: a slot is booked exactly while one
active appointment holds it, no two active appointments of a patient or a doctor overlap.
"""

import argparse
import json
import os
import random
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402
from tqdm import tqdm  # noqa: E402

from accounts.models import Role, User, username_fold  # noqa: E402
from appointments.models import (  # noqa: E402
    ACTIVE_STATUSES,
    Appointment,
    AppointmentStatus,
    AppointmentStatusChange,
)
from doctors.models import Doctor, Specialization  # noqa: E402
from patients.models import Patient  # noqa: E402

DOCTORS = 100
SPECIALIZATIONS = 10
DAYS = 30
SLOTS_PER_DAY = 8
FIRST_HOUR = 9  # clinic-local start of the first slot of a day
BOOKED_SHARE = 0.30
PATIENTS = 1000
PASSWORD = "bench-password-not-secret"  # noqa: S105

# Days (counted from tomorrow, 0-based) that the search scenarios read: bookings made during
# the run never touch them, so the slot search sees the same rows at 24,000 and at 240,000.
SEARCH_DAY = 2
DOCTOR_WEEK = range(2, 9)
BOOKABLE_DAYS = range(9, DAYS)
CONTENTION_ROUNDS = 200
CONTENDERS = 50

rng = random.Random(20261122)


@dataclass
class Seeded:
    """What the COPY stage writes, kept to plan the bookings of the run."""

    slots: list[tuple] = field(default_factory=list)  # (id, doctor_id, start, day_index)
    booked: set = field(default_factory=set)
    # (patient_id, start) of every active appointment: a patient holds one per hour at most.
    patient_hours: set = field(default_factory=set)


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(settings.CLINIC_TIME_ZONE)


def first_day() -> date:
    return timezone.now().astimezone(clinic_zone()).date() + timedelta(days=1)


def slot_start(day: date, index: int) -> datetime:
    local = datetime.combine(day, time(FIRST_HOUR + index), tzinfo=clinic_zone())
    return local.astimezone(UTC)


def token_for(user: User) -> str:
    token = AccessToken.for_user(user)
    token["role"] = user.role
    return str(token)


@cache
def password_hash() -> str:
    return make_password(PASSWORD)


def users_create(role: str, prefix: str, count: int, start: int = 0) -> list[User]:
    password = password_hash()
    users = [
        User(
            username=f"{prefix}{start + n:05d}",
            username_folded=username_fold(f"{prefix}{start + n:05d}"),
            email=f"{prefix}{start + n:05d}@bench.example",
            first_name=rng.choice(["Ada", "Grace", "Alan", "Mary", "John", "Rosa", "Lin"]),
            last_name=f"{prefix.title()}{start + n:05d}",
            role=role,
            password=password,
            is_staff=role == Role.ADMIN,
        )
        for n in range(count)
    ]
    return User.objects.bulk_create(users, batch_size=1000)


def doctors_create(count: int, specializations: list[Specialization], start: int) -> list[Doctor]:
    users = users_create(Role.DOCTOR, "doctor", count, start)
    doctors = [
        Doctor(
            user=user,
            specialization=specializations[n % len(specializations)],
            license_number=f"BENCH-{start + n:06d}",
            years_of_experience=5 + n % 30,
            bio="Bench doctor.",
            requires_approval=n % 2 == 0,
        )
        for n, user in enumerate(users)
    ]
    return Doctor.objects.bulk_create(doctors, batch_size=1000)


def copy_rows(table: str, columns: list[str], rows, total: int, label: str) -> None:
    quoted = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
        for row in tqdm(rows, total=total, desc=label, unit="row", leave=True, mininterval=0.5):
            copy.write_row(row)


def schedule_copy(doctors: list[Doctor], patients: list[uuid.UUID], seeded: Seeded) -> None:
    """Windows (one per doctor per day), their slots, and 30 % of them booked: an appointment
    (pending or confirmed, as the doctor's approval setting says), its first history row and
    the slot's booked mark. Patients are drawn at random among those free at that hour."""
    days = [first_day() + timedelta(days=d) for d in range(DAYS)]
    now = timezone.now()
    blank = ciphertext(Appointment, "diagnosis", "")
    reason = ciphertext(Appointment, "reason", "Check-up")
    no_note = ciphertext(AppointmentStatusChange, "note", "")
    windows: list[tuple[Any, ...]] = []
    slots: list[list[Any]] = []  # the doctor in place of its id until the rows are copied
    appointments: list[tuple[Any, ...]] = []
    history: list[tuple[Any, ...]] = []
    for doctor in doctors:
        for day_index, day in enumerate(days):
            window_id = uuid.uuid4()
            window_start = slot_start(day, 0)
            window_end = slot_start(day, SLOTS_PER_DAY - 1) + timedelta(hours=1)
            windows.append((window_id, doctor.pk, window_start, window_end, False, now))
            for index in range(SLOTS_PER_DAY):
                start = slot_start(day, index)
                slots.append(
                    [uuid.uuid4(), doctor, window_id, start, start + timedelta(hours=1), False]
                )
                seeded.slots.append((slots[-1][0], doctor.pk, start, day_index))
    for row in rng.sample(slots, round(len(slots) * BOOKED_SHARE)):
        slot_id, doctor, _window, start, end, _ = row
        row[5] = True
        seeded.booked.add(slot_id)
        patient_id = rng.choice(patients)
        while (patient_id, start) in seeded.patient_hours:
            patient_id = rng.choice(patients)
        seeded.patient_hours.add((patient_id, start))
        status = (
            AppointmentStatus.PENDING if doctor.requires_approval else AppointmentStatus.CONFIRMED
        )
        appointment_id = uuid.uuid4()
        appointments.append(
            (
                appointment_id,
                patient_id,
                doctor.pk,
                slot_id,
                start,
                end,
                status,
                reason,
                False,
                blank,
                blank,
                patient_id,
                now,
                now,
            )
        )
        history.append((appointment_id, "", status, patient_id, now, no_note))
    for row in slots:
        row[1] = row[1].pk
    copy_rows(
        "scheduling_availabilitywindow",
        ["id", "doctor_id", "start", "end", "is_override", "created_at"],
        windows,
        len(windows),
        "windows",
    )
    copy_rows(
        "scheduling_slot",
        ["id", "doctor_id", "window_id", "start", "end", "is_booked"],
        slots,
        len(slots),
        "slots",
    )
    copy_rows(
        "appointments_appointment",
        [
            "id",
            "patient_id",
            "doctor_id",
            "slot_id",
            "start",
            "end",
            "status",
            "reason",
            "is_override",
            "diagnosis",
            "treatment_notes",
            "created_by_id",
            "created_at",
            "updated_at",
        ],
        appointments,
        len(appointments),
        "appointments",
    )
    copy_rows(
        "appointments_appointmentstatuschange",
        ["appointment_id", "from_status", "to_status", "actor_id", "at", "note"],
        history,
        len(history),
        "history",
    )


def ciphertext(model, field: str, text: str) -> bytes:
    """What an encrypted text field of `model` holds in the database for `text`. The seed
    shares one ciphertext among all its rows: reading each still decrypts it, as with real
    rows."""
    return model._meta.get_field(field).get_db_prep_value(text, connection)


def base_seed(out: Path) -> None:
    with transaction.atomic():
        specializations = Specialization.objects.bulk_create(
            [Specialization(name=f"Specialty {n:03d}") for n in range(SPECIALIZATIONS)]
        )
        admin = users_create(Role.ADMIN, "admin", 1)[0]
        patient_users = []
        for start in tqdm(range(0, PATIENTS, 100), desc="patients", unit="x100 patients"):
            users = users_create(Role.PATIENT, "patient", 100, start)
            Patient.objects.bulk_create(
                Patient(
                    user=user,
                    date_of_birth=date(1960, 1, 1) + timedelta(days=(start + n) * 11),
                    gender="undisclosed",
                    contact_number="+44 20 7946 0000",
                    insurance_provider="Acme Health",
                    insurance_policy_number=f"POL-{start + n:08d}",
                )
                for n, user in enumerate(users)
            )
            patient_users += users
        doctors = doctors_create(DOCTORS, specializations, 0)
        seeded = Seeded()
        patients = [user.pk for user in patient_users]
        schedule_copy(doctors, patients, seeded)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    data = plan(admin, doctors, patient_users, specializations, seeded)
    out.write_text(json.dumps(data))
    print(
        f"Seeded {len(seeded.slots):,} slots ({len(seeded.booked):,} booked), "
        f"{len(doctors)} doctors, {len(patients):,} patients."
    )


def plan(admin, doctors, patient_users, specializations, seeded: Seeded) -> dict:
    """Tokens, the search parameters, and the bookings the run will make: the uncontended
    (patient, slot) pairs and the contended rounds, on disjoint free slots, never giving a
    patient two appointments at one hour (so no booking can fail with `patient_conflict`)."""
    patients = [user.pk for user in patient_users]
    free = [s for s in seeded.slots if s[0] not in seeded.booked and s[3] in BOOKABLE_DAYS]
    rng.shuffle(free)
    taken = set(seeded.patient_hours)

    # Contended rounds: each on its own hour, with 50 patients free at that hour.
    rounds: list[Any] = []
    used_hours: set[Any] = set()
    for slot_id, _doctor, start, _day in free:
        if len(rounds) == CONTENTION_ROUNDS:
            break
        if start in used_hours:
            continue
        contenders = [p for p in rng.sample(patients, 200) if (p, start) not in taken][:CONTENDERS]
        used_hours.add(start)
        for patient in contenders:  # whoever wins, no one may later conflict with them
            taken.add((patient, start))
        rounds.append({"slot": str(slot_id), "patients": [str(p) for p in contenders]})
    contended = {r["slot"] for r in rounds}

    # Uncontended pairs: every other free bookable slot, each with a patient free then.
    pairs = []
    order = list(range(len(patients)))
    cursor = 0
    for slot_id, _doctor, start, _day in free:
        if str(slot_id) in contended:
            continue
        for attempt in range(len(order)):
            patient = patients[order[(cursor + attempt) % len(order)]]
            if (patient, start) not in taken:
                taken.add((patient, start))
                pairs.append([str(patient), str(slot_id)])
                cursor = (cursor + attempt + 1) % len(order)
                break

    search_day = first_day() + timedelta(days=SEARCH_DAY)
    week = [first_day() + timedelta(days=d) for d in DOCTOR_WEEK]
    tokens = {
        str(user.pk): token_for(user) for user in [*patient_users, *(d.user for d in doctors)]
    }
    return {
        "admin": {"id": str(admin.pk), "token": token_for(admin)},
        "patients": [str(p) for p in patients],
        "doctors": [str(d.pk) for d in doctors],
        "tokens": tokens,
        "search": {"specialization": specializations[0].pk, "date": search_day.isoformat()},
        "doctor_week": {"date_from": week[0].isoformat(), "date_to": week[-1].isoformat()},
        "booking_pairs": pairs,
        "contention_rounds": rounds,
    }


def scale_seed(target: int) -> None:
    """Grow the slot table to `target` rows with more doctors, in specializations of their
    own: the rows the search scenarios read stay the same, only the table grows."""
    existing = connection.cursor()
    existing.execute("SELECT count(*) FROM scheduling_slot")
    current = existing.fetchone()[0]
    per_doctor = DAYS * SLOTS_PER_DAY
    extra = max(0, (target - current) // per_doctor)
    if not extra:
        print(f"The slot table already holds {current:,} rows.")
        return
    start = Doctor.objects.count()
    with transaction.atomic():
        specializations = Specialization.objects.bulk_create(
            [
                Specialization(name=f"Specialty {n:03d}")
                for n in range(SPECIALIZATIONS, SPECIALIZATIONS + extra // 10)
            ]
        )
        doctors = doctors_create(extra, specializations, start)
        seeded = Seeded()
        existing.execute(
            "SELECT patient_id, start FROM appointments_appointment WHERE status = ANY(%s)",
            [list(ACTIVE_STATUSES)],
        )
        seeded.patient_hours = set(existing.fetchall())
        patients = list(Patient.objects.values_list("pk", flat=True))
        schedule_copy(doctors, patients, seeded)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM scheduling_slot")
        print(f"The slot table now holds {cursor.fetchone()[0]:,} rows.")


def pgbench_pairs(count: int) -> None:
    """`bench_pgbench_pair(n, slot_id, patient_id, doctor_id, start, end)`: free slots, each
    with a patient free at that hour, patients taken in turn so that concurrent pgbench
    clients seldom wait for one patient's row lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            'SELECT id, doctor_id, start, "end" FROM scheduling_slot WHERE NOT is_booked '
            "AND start > now() + interval '1 day' ORDER BY random() LIMIT %s",
            [count],
        )
        free = cursor.fetchall()
        cursor.execute(
            "SELECT patient_id, start FROM appointments_appointment WHERE status = ANY(%s)",
            [list(ACTIVE_STATUSES)],
        )
        taken = set(cursor.fetchall())
        cursor.execute("SELECT user_id FROM patients_patient ORDER BY user_id")
        patients = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "DROP TABLE IF EXISTS bench_pgbench_pair; CREATE TABLE bench_pgbench_pair "
            "(n integer PRIMARY KEY, slot_id uuid, patient_id uuid, doctor_id uuid, "
            'start timestamptz, "end" timestamptz); '
            "DROP SEQUENCE IF EXISTS bench_pgbench_seq; CREATE SEQUENCE bench_pgbench_seq"
        )
        rows: list[Any] = []
        turn = 0
        for slot_id, doctor_id, start, end in free:
            for attempt in range(len(patients)):
                patient = patients[(turn + attempt) % len(patients)]
                if (patient, start) not in taken:
                    taken.add((patient, start))
                    rows.append((len(rows) + 1, slot_id, patient, doctor_id, start, end))
                    turn = (turn + attempt + 1) % len(patients)
                    break
    copy_rows(
        "bench_pgbench_pair",
        ["n", "slot_id", "patient_id", "doctor_id", "start", "end"],
        rows,
        len(rows),
        "pgbench pairs",
    )
    print(len(rows))


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.seed")
    commands = parser.add_subparsers(dest="command", required=True)
    base = commands.add_parser("base")
    base.add_argument("--out", type=Path, required=True)
    scale = commands.add_parser("scale")
    scale.add_argument("--slots", type=int, required=True)
    pairs = commands.add_parser("pgbench-pairs")
    pairs.add_argument("--count", type=int, required=True)
    args = parser.parse_args(argv)
    if args.command == "base":
        base_seed(args.out)
    elif args.command == "scale":
        scale_seed(args.slots)
    else:
        pgbench_pairs(args.count)


if __name__ == "__main__":
    main(sys.argv[1:])
