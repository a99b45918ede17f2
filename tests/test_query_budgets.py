"""Query budgets: every list endpoint runs a constant number of SQL queries, at most six,
however many rows its page holds (no N+1 query per row).

Each case makes `ROWS` rows the caller can see, then reads the list with a small and a
large page (or, for the unpaginated history and reports, with few and many rows behind
it) and checks that both took the same number of queries, within the budget, and that the
large one really showed the rows.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from appointments.models import (
    AppointmentSeries,
    AppointmentStatus,
    AppointmentStatusChange,
    Feedback,
    Penalty,
)
from audit.models import AuditLog
from doctors.models import Doctor
from notifications.models import Notification, NotificationKind
from patients.models import Patient
from scheduling.models import Holiday, Slot, TimeOff, WeeklyRule
from tests.conftest import client_for
from tests.factories import (
    AdminUserFactory,
    AppointmentFactory,
    AvailabilityWindowFactory,
    DoctorFactory,
    PatientFactory,
    SpecializationFactory,
    in_future,
)

BUDGET = 6
ROWS = 30
SMALL, LARGE = 5, 30


@dataclass
class World:
    """Who asks, and about whom."""

    admin: User
    doctor: Doctor
    patient: Patient


def _slots(doctor, count: int = ROWS) -> None:
    """`count` free one-hour slots of the doctor on one day, in one window."""
    start = in_future(days=3).replace(hour=0)
    window = AvailabilityWindowFactory.create(
        doctor=doctor, start=start, end=start + timedelta(hours=count)
    )
    Slot.objects.bulk_create(
        Slot(
            doctor=doctor,
            window=window,
            start=start + timedelta(hours=n),
            end=start + timedelta(hours=n + 1),
        )
        for n in range(count)
    )


def _appointments(world: World, count: int = ROWS, **fields) -> list:
    """`count` appointments of the world's patient with the world's doctor, a day apart."""
    return [
        AppointmentFactory.create(patient=world.patient, doctor=world.doctor, **fields)
        for _ in range(count)
    ]


def _windows(world: World) -> None:
    for n in range(ROWS):
        start = in_future(days=n + 2).replace(hour=9)
        window = AvailabilityWindowFactory.create(
            doctor=world.doctor, start=start, end=start + timedelta(hours=2)
        )
        Slot.objects.bulk_create(
            Slot(
                doctor=world.doctor,
                window=window,
                start=start + timedelta(hours=h),
                end=start + timedelta(hours=h + 1),
            )
            for h in range(2)
        )


def _weekly_rules(world: World) -> None:
    WeeklyRule.objects.bulk_create(
        WeeklyRule(
            doctor=world.doctor,
            day_of_week=n % 7,
            start_time=f"{8 + n // 7:02d}:00",
            end_time=f"{9 + n // 7:02d}:00",
            effective_from=date.today(),
        )
        for n in range(ROWS)
    )


def _time_off(world: World) -> None:
    TimeOff.objects.bulk_create(
        TimeOff(
            doctor=world.doctor,
            start=in_future(days=n + 2),
            end=in_future(days=n + 2, hours=1),
            reason="Course",
        )
        for n in range(ROWS)
    )


def _holidays(world: World) -> None:
    Holiday.objects.bulk_create(
        Holiday(date=date.today() + timedelta(days=200 + n), name=f"Holiday {n}")
        for n in range(ROWS)
    )


def _patients_of_doctor(world: World) -> None:
    for _ in range(ROWS):
        AppointmentFactory.create(patient=PatientFactory.create(), doctor=world.doctor)


def _penalties(world: World) -> None:
    for appointment in _appointments(world, status=AppointmentStatus.NO_SHOW):
        Penalty.objects.create(patient=world.patient, appointment=appointment)


def _feedback(world: World) -> None:
    for appointment in _appointments(world, status=AppointmentStatus.COMPLETED):
        Feedback.objects.create(appointment=appointment, doctor=world.doctor, rating=4)


def _patients(world: World) -> None:
    PatientFactory.create_batch(ROWS)


def _series(world: World) -> None:
    """`ROWS` series of the world's patient with the world's doctor, two visits each."""
    for _ in range(ROWS):
        series = AppointmentSeries.objects.create(
            patient=world.patient, doctor=world.doctor, every_weeks=1, count=2
        )
        for visit in _appointments(world, 2):
            visit.series = series
            visit.save(update_fields=["series"])


def _audit_entries(world: World) -> None:
    AuditLog.objects.bulk_create(
        AuditLog(action="update", target_type="patient", target_id=str(n)) for n in range(ROWS)
    )


def _notifications(world: World) -> None:
    Notification.objects.bulk_create(
        Notification(
            recipient=world.patient.user,
            kind=NotificationKind.BOOKED,
            title=f"Booked {n}",
            body="Your appointment is booked.",
        )
        for n in range(ROWS)
    )


@dataclass
class Paged:
    """A paginated list: `rows` makes its rows, `who` reads it, at `path`."""

    path: str
    who: str
    rows: object
    cursor: bool = False


PAGED = {
    "specializations": Paged(
        "/api/v1/specializations/", "patient", lambda w: SpecializationFactory.create_batch(ROWS)
    ),
    "doctors": Paged("/api/v1/doctors/", "patient", lambda w: DoctorFactory.create_batch(ROWS)),
    "doctors (admin)": Paged(
        "/api/v1/doctors/", "admin", lambda w: DoctorFactory.create_batch(ROWS)
    ),
    "slots": Paged("/api/v1/slots/", "patient", lambda w: _slots(w.doctor)),
    "doctor slots": Paged("/api/v1/doctors/{doctor}/slots/", "patient", lambda w: _slots(w.doctor)),
    "availability": Paged("/api/v1/availability/", "doctor", _windows),
    "weekly rules": Paged("/api/v1/availability/weekly/", "doctor", _weekly_rules),
    "time off": Paged("/api/v1/time-off/", "doctor", _time_off),
    "holidays": Paged("/api/v1/holidays/", "patient", _holidays),
    "appointments (patient)": Paged("/api/v1/appointments/", "patient", _appointments),
    "appointments (doctor)": Paged("/api/v1/appointments/", "doctor", _appointments),
    "appointments (admin)": Paged("/api/v1/appointments/", "admin", _appointments),
    "series (patient)": Paged("/api/v1/appointment-series/", "patient", _series),
    "series (doctor)": Paged("/api/v1/appointment-series/", "doctor", _series),
    "series (admin)": Paged("/api/v1/appointment-series/", "admin", _series),
    "penalties": Paged("/api/v1/penalties/", "patient", _penalties),
    "patients (admin)": Paged("/api/v1/patients/", "admin", _patients),
    "patients (doctor)": Paged("/api/v1/patients/", "doctor", _patients_of_doctor),
    "doctor feedback": Paged("/api/v1/doctors/{doctor}/feedback/", "patient", _feedback),
    "audit log": Paged("/api/v1/audit-logs/", "admin", _audit_entries, cursor=True),
    "notifications": Paged("/api/v1/notifications/", "patient", _notifications),
}


@pytest.fixture
def world(db) -> World:
    return World(
        admin=AdminUserFactory.create(),
        doctor=DoctorFactory.create(),
        patient=PatientFactory.create(),
    )


def _read(client, path: str) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.json()
    return len(queries.captured_queries), response.json()


def _caller(world: World, who: str):
    return {"admin": world.admin, "doctor": world.doctor.user, "patient": world.patient.user}[who]


@pytest.mark.parametrize("name", list(PAGED))
def test_a_list_runs_the_same_few_queries_whatever_its_page_size(
    name, world, django_assert_max_num_queries
):
    case = PAGED[name]
    case.rows(world)
    client = client_for(_caller(world, case.who))
    path = case.path.format(doctor=world.doctor.pk)
    joiner = "&" if "?" in path else "?"
    with django_assert_max_num_queries(BUDGET):
        small_count, small = _read(client, f"{path}{joiner}page_size={SMALL}")
    with django_assert_max_num_queries(BUDGET):
        large_count, large = _read(client, f"{path}{joiner}page_size={LARGE}")
    assert len(small["results"]) == SMALL
    assert len(large["results"]) >= min(LARGE, ROWS) - 1  # the caller's own row may be one
    assert small_count == large_count, (small_count, large_count)


def _history(world: World, count: int):
    (appointment,) = _appointments(world, 1)
    AppointmentStatusChange.objects.bulk_create(
        AppointmentStatusChange(
            appointment=appointment,
            from_status=AppointmentStatus.PENDING,
            to_status=AppointmentStatus.CONFIRMED,
            actor=world.doctor.user,
            at=timezone.now(),
            note=f"change {n}",
        )
        for n in range(count)
    )
    return f"/api/v1/appointments/{appointment.pk}/history/"


def _report_rows(world: World, count: int) -> None:
    """`count` appointments of distinct doctors and patients: completed, no-shows, rated."""
    for n in range(count):
        world_n = World(
            admin=world.admin, doctor=DoctorFactory.create(), patient=PatientFactory.create()
        )
        appointment = AppointmentFactory.create(
            patient=world_n.patient,
            doctor=world_n.doctor,
            status=AppointmentStatus.NO_SHOW if n % 2 else AppointmentStatus.COMPLETED,
        )
        if n % 2 == 0:
            Feedback.objects.create(appointment=appointment, doctor=world_n.doctor, rating=5)


def _report(path: str) -> Callable[[World, int], str]:
    """A report's path, asked after `_report_rows` made its rows."""

    def rows_made(world: World, count: int) -> str:
        _report_rows(world, count)
        return path

    return rows_made


UNPAGED = {
    "appointment history": ("patient", _history),
    "no-show report": ("admin", _report("/api/v1/reports/no-shows/")),
    "appointments report": ("admin", _report("/api/v1/reports/appointments/")),
    "doctors report": ("admin", _report("/api/v1/reports/doctors/")),
}


@pytest.mark.parametrize("name", list(UNPAGED))
def test_an_unpaginated_list_runs_the_same_few_queries_however_many_rows(
    name, world, django_assert_max_num_queries
):
    who, build = UNPAGED[name]
    client = client_for(_caller(world, who))
    few = build(world, SMALL)
    with django_assert_max_num_queries(BUDGET):
        few_count, _ = _read(client, few)
    many = build(world, LARGE)
    with django_assert_max_num_queries(BUDGET):
        many_count, _ = _read(client, many)
    assert few_count == many_count, (few_count, many_count)
