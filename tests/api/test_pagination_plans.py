"""Which paginator each list uses, and the query plans that choice relies on.

`core.api.pagination` offers two forms of the page-and-count query, and every list view names
the one it uses. `IndexOrderedPagination` keeps the count in the page's query, which is right
only where one index reads the list's own rows and no others: these tests EXPLAIN ANALYZE the
query each such view really sends and find it reading through that index. The default,
`PageNumberPagination`, counts in a subquery, so that PostgreSQL plans the count over every
matching row instead of walking an index in page order over the whole table: the slot search
by specialization is where that happened (bench/README.md, "Pagination"); the test finds it
reading only the specialization's slots, and the other form walking the whole table.

The data: 50 doctors in 10 specializations with 8 one-hour slots a day for 30 days (12,000
slots, 30 % of them booked), an appointment for each booked slot among 100 patients, then
ANALYZE, so that the planner chooses as on a clinic's tables. (With 20 days or fewer,
PostgreSQL 15 reads a doctor's few rows through the foreign key's own index and sorts them;
PostgreSQL 18 does so with these 30 days too, which reads the same rows.)
"""

import json
from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.generics import ListAPIView

from accounts.models import Role, User, username_fold
from appointments.models import Appointment
from doctors.models import Doctor, Specialization
from patients.models import Patient
from scheduling.models import Slot
from tests.conftest import client_for
from tests.routes import api_routes

DOCTORS = 50
SPECIALIZATIONS = 10
DAYS = 30
SLOTS_PER_DAY = 8
PATIENTS = 100
# From this server version on, the planner reads a list's few rows through the foreign key's
# index and sorts them where older ones walked the list's ordered index (both read only the
# list's rows).
PLANS_THE_FOREIGN_KEY_AND_SORTS = 180000
TABLES = [
    "accounts_user",
    "doctors_specialization",
    "doctors_doctor",
    "patients_patient",
    "scheduling_availabilitywindow",
    "scheduling_slot",
    "appointments_appointment",
]


def _users(role: str, count: int) -> list[User]:
    return User.objects.bulk_create(
        User(
            username=f"{role}-plan-{n}",
            username_folded=username_fold(f"{role}-plan-{n}"),
            email=f"{role}-plan-{n}@example.test",
            first_name="Ada",
            last_name=f"{role.title()} {n}",
            role=role,
            password="!",  # unusable: nobody signs in here
        )
        for n in range(count)
    )


@pytest.fixture(scope="module")
def clinic(django_db_setup, django_db_blocker):
    """The data above, for the module, rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        specializations = Specialization.objects.bulk_create(
            Specialization(name=f"Plan specialization {n}") for n in range(SPECIALIZATIONS)
        )
        doctors = Doctor.objects.bulk_create(
            Doctor(
                user=user,
                specialization=specializations[n % SPECIALIZATIONS],
                license_number=f"PLAN-{n}",
                years_of_experience=10,
            )
            for n, user in enumerate(_users(Role.DOCTOR, DOCTORS))
        )
        patients = Patient.objects.bulk_create(
            Patient(user=user, date_of_birth=date(1980, 1, 1))
            for user in _users(Role.PATIENT, PATIENTS)
        )
        first = (timezone.now() + timedelta(days=1)).replace(
            hour=8, minute=0, second=0, microsecond=0
        )
        blank = Appointment._meta.get_field("diagnosis").get_db_prep_value("", connection)
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(0.14)")  # the same 30 % booked on every run
            cursor.execute(
                """
                INSERT INTO scheduling_availabilitywindow
                    (id, doctor_id, start, "end", is_override, created_at)
                SELECT gen_random_uuid(), user_id, %s::timestamptz + day * interval '1 day',
                       %s::timestamptz + day * interval '1 day' + %s * interval '1 hour',
                       false, now()
                FROM doctors_doctor, generate_series(0, %s - 1) AS day
                """,
                [first, first, SLOTS_PER_DAY, DAYS],
            )
            cursor.execute(
                """
                INSERT INTO scheduling_slot (id, doctor_id, window_id, start, "end", is_booked)
                SELECT gen_random_uuid(), doctor_id, id, start + hour * interval '1 hour',
                       start + (hour + 1) * interval '1 hour', random() < 0.3
                FROM scheduling_availabilitywindow, generate_series(0, %s - 1) AS hour
                """,
                [SLOTS_PER_DAY],
            )
            cursor.execute(
                """
                INSERT INTO appointments_appointment
                    (id, patient_id, doctor_id, slot_id, start, "end", status, reason,
                     is_override, diagnosis, treatment_notes, created_at, updated_at)
                SELECT gen_random_uuid(), (%s::uuid[])[1 + (row_number() OVER () %% %s)],
                       doctor_id, id, start, "end", 'completed', %s, false, %s, %s, now(), now()
                FROM scheduling_slot WHERE is_booked
                """,
                [[p.pk for p in patients], PATIENTS, blank, blank, blank],
            )
            cursor.execute(f"ANALYZE {', '.join(TABLES)}")
            # Check the rows' deferred foreign keys now, once: otherwise each test's end
            # checks them again (Django's TestCase does, and its savepoint's rollback undoes it).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        yield {"doctors": doctors, "patients": patients, "specializations": specializations}
        transaction.set_rollback(True)


def page_query(client, url, params=None) -> tuple[str, int]:
    """The SQL of the page-and-count query a request sends, as sent, and the list's count."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    (sql,) = [q["sql"] for q in captured.captured_queries if "COUNT(*) OVER ()" in q["sql"]]
    return sql, response.json()["count"]


def plan_of(sql: str) -> list[dict]:
    """Every node of the plan PostgreSQL runs `sql` with (EXPLAIN ANALYZE: rows as read)."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        (explained,) = cursor.fetchone()
    if isinstance(explained, str):
        explained = json.loads(explained)

    def walk(node):
        yield node
        for child in node.get("Plans", []):
            yield from walk(child)

    return list(walk(explained[0]["Plan"]))


def rows_read(plan: list[dict], table: str) -> int:
    """The rows the plan's scans of `table` read, those its filters then dropped included."""
    return sum(
        (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node["Actual Loops"]
        for node in plan
        if node.get("Relation Name") == table
    )


def uses_index(plan: list[dict], index: str) -> bool:
    return any(node.get("Index Name") == index for node in plan)


def scans(plan: list[dict]) -> str:
    """The plan's nodes in short, for a failure's message."""
    return "; ".join(
        f"{node['Node Type']} {node.get('Relation Name') or ''} {node.get('Index Name') or ''}"
        f" ({node['Actual Rows']:.0f} rows, {node['Plan Rows']:.0f} planned)"
        for node in plan
    )


def test_every_list_view_names_its_paginator():
    undeclared = []
    for route, callback in api_routes():
        view = callback.cls
        lists = "list" in (getattr(callback, "actions", None) or {}).values() or issubclass(
            view, ListAPIView
        )
        if lists and not any(
            "pagination_class" in vars(cls)
            for cls in view.__mro__
            if not cls.__module__.startswith("rest_framework")
        ):
            undeclared.append(route)
    assert undeclared == []


def assert_reads_only_its_own_rows(sql: str, index: str, table: str, own_rows: int) -> None:
    """The page's query counts without a subquery, reads `table` through an index, and reads
    no row of it but the list's own (`own_rows`, those its filters drop included). Before
    PostgreSQL 18 that index is `index`, walked in page order; 18's planner reads the same rows
    through the foreign key's index and sorts them, which is as good for the count."""
    assert not sql.startswith("SELECT * FROM (")
    plan = plan_of(sql)
    # PostgreSQL's backend has pg_version; django-stubs types the connection as any backend.
    if connection.pg_version < PLANS_THE_FOREIGN_KEY_AND_SORTS:  # type: ignore[attr-defined]
        assert uses_index(plan, index), scans(plan)
    assert not any(
        node["Node Type"] == "Seq Scan" and node.get("Relation Name") == table for node in plan
    ), scans(plan)
    assert rows_read(plan, table) <= own_rows, scans(plan)


@pytest.mark.django_db
def test_a_doctors_slot_page_reads_the_doctor_start_index(clinic):
    doctor = clinic["doctors"][0]
    sql, count = page_query(client_for(), f"/api/v1/doctors/{doctor.pk}/slots/")
    own_rows = Slot.objects.filter(doctor=doctor).count()
    assert 20 < count <= own_rows
    assert_reads_only_its_own_rows(sql, "scheduling_slot_doctor_start", "scheduling_slot", own_rows)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["patient", "doctor"])
def test_a_patients_or_doctors_appointments_read_their_start_index(clinic, role):
    party = clinic[f"{role}s"][0]
    sql, count = page_query(client_for(party.user), "/api/v1/appointments/")
    assert count == Appointment.objects.filter(**{role: party}).count() > 20
    assert_reads_only_its_own_rows(
        sql, f"appointments_{role}_start", "appointments_appointment", count
    )


@pytest.mark.django_db
def test_a_slot_search_by_specialization_reads_only_that_specialization(clinic):
    specialization = clinic["specializations"][3]
    sql, count = page_query(client_for(), "/api/v1/slots/", {"specialization": specialization.pk})
    assert sql.startswith("SELECT * FROM (")
    its_slots = Slot.objects.filter(doctor__specialization=specialization).count()
    free_slots = Slot.objects.filter(is_booked=False).count()
    assert 20 < count <= its_slots < free_slots / 5
    read = rows_read(plan_of(sql), "scheduling_slot")
    assert count <= read <= its_slots, "the search read other specializations' slots"
