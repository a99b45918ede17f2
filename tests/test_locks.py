"""The one lock order (`core.locks`) and the bounded lock wait, proven with real threads and
connections: interleavings forced at exact points that deadlock or fail when two services
lock in different orders, and locks held from another connection that a request must not
wait for past `BOOKING_LOCK_TIMEOUT_MS`."""

import re
import threading
import uuid
from datetime import date, time, timedelta
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from appointments import services as appointment_services
from appointments.locks import appointment_lock, patient_lock, penalty_lock
from appointments.models import Appointment, Penalty
from core.locks import locking_transaction, rows_lock
from doctors.locks import doctor_lock, doctor_share_lock
from doctors.models import Doctor
from patients.models import Patient
from scheduling import services as schedule_services
from scheduling.models import AvailabilityWindow, Holiday, Slot, TimeOff, WeeklyRule
from tests.appointments.timeline import appointment_at
from tests.concurrency import InThread, RunAfter, lock_wait_awaited
from tests.conftest import client_for, error_codes
from tests.factories import AdminUserFactory, DoctorFactory, PatientFactory, in_future
from tests.schedule import slot_published

ROOT = Path(__file__).resolve().parent.parent
APPS = ["accounts", "appointments", "audit", "core", "doctors", "notifications", "patients"]
APPS += ["scheduling", "clinic_admin", "waitlist"]


def _client(user):
    """A client that answers a 5xx instead of raising the error behind it."""
    client = client_for(user)
    client.raise_request_exception = False
    return client


def _other_connection() -> psycopg.Connection:
    params = connection.get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    return psycopg.connect(autocommit=True, **params)


def test_every_lock_is_taken_in_a_locks_module():
    """Every locking query of the code base is named in a `locks` module (where its place in
    the order is written), never written inline in a service."""
    locking = re.compile(r"select_for_update|FOR (NO KEY )?(UPDATE|SHARE)|pg_advisory")
    inline = [
        f"{path.relative_to(ROOT)}:{number}"
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if path.name != "locks.py" and "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if locking.search(line)
    ]
    assert inline == []


@pytest.mark.django_db
def test_a_lock_outside_a_locking_transaction_is_refused():
    with pytest.raises(RuntimeError, match="locking_transaction"):
        rows_lock(Slot.objects.all())
    with locking_transaction():
        assert rows_lock(Slot.objects.all()) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("lock", "key", "model"),
    [
        (appointment_lock, "appointment_id", Appointment),
        (patient_lock, "patient_id", Patient),
        (penalty_lock, "penalty_id", Penalty),
        (doctor_lock, "doctor_id", Doctor),
        (doctor_share_lock, "doctor_id", Doctor),
    ],
)
def test_a_lock_on_a_row_that_is_gone_raises_does_not_exist(lock, key, model):
    """A service locks by id a row it read before its transaction; if the row was deleted in
    between, the lock says so with the model's DoesNotExist rather than handing the service
    None (or an IndexError) to trip over later."""
    with locking_transaction(), pytest.raises(model.DoesNotExist):
        lock(**{key: uuid.uuid4()})


def _reschedule_while_blacklisting(admin) -> tuple[Appointment, object, object]:
    """A patient reschedules a confirmed appointment; right after the old one is moved (its
    row held), the admin blacklists the doctor with cancellations, let run until it waits
    for a lock; then the reschedule goes on. Returns the old appointment and both answers."""
    doctor, patient = DoctorFactory.create(requires_approval=False), PatientFactory.create()
    old = appointment_services.appointment_book(
        actor=patient.user, patient=patient, slot_id=slot_published(doctor).pk
    )
    new_slot = slot_published(doctor, start=in_future(days=4).replace(hour=9))
    blacklisting = []

    def blacklist_meanwhile():
        blacklisting.append(
            InThread(
                lambda: _client(admin).post(
                    f"/api/v1/doctors/{doctor.pk}/blacklist/",
                    {"reason": "Licence suspended", "cancel_upcoming": True},
                )
            )
        )
        lock_wait_awaited(blacklisting[0])

    with RunAfter(appointment_services, "status_change_record", blacklist_meanwhile):
        rescheduled = InThread(
            lambda: _client(patient.user).post(
                f"/api/v1/appointments/{old.pk}/reschedule/", {"slot": str(new_slot.pk)}
            )
        ).join()
    return old, rescheduled, blacklisting[0].join()


@pytest.mark.django_db(transaction=True)
def test_a_reschedule_and_a_blacklisting_of_its_doctor_do_not_deadlock():
    """Locking in opposite orders (the doctor first; the appointments first) deadlocks in
    this interleaving, and one request answers 503; in the one order, one waits for the
    other and both succeed."""
    admin = AdminUserFactory.create()
    for _ in range(3):
        old, rescheduled, blacklisted = _reschedule_while_blacklisting(admin)
        assert (rescheduled.status_code, blacklisted.status_code) == (201, 200), (
            rescheduled.json(),
            blacklisted.json(),
        )
        old.refresh_from_db()
        new = Appointment.objects.get(rescheduled_from=old)
        assert (old.status, new.status) == ("rescheduled", "cancelled")
        assert not Slot.objects.filter(doctor=old.doctor, is_booked=True).exists()


@pytest.mark.django_db(transaction=True)
def test_deleting_a_rule_while_it_is_being_extended_waits_and_removes_all_it_made(settings):
    """The daily extension is held right after it has made its first new window; the rule's
    deletion then starts and is let run until it waits for a lock; then the extension goes on
    and commits. The deletion must see what the extension made (no 500 at commit on windows
    still pointing at the deleted rule) and remove it."""
    settings.BOOKING_HORIZON_DAYS = 14
    doctor = DoctorFactory.create()
    rule = schedule_services.weekly_rule_create(
        doctor=doctor,
        day_of_week=in_future(days=3).weekday(),
        start_time=time(9),
        end_time=time(11),
        effective_from=date.today(),
    )
    settings.BOOKING_HORIZON_DAYS = 42
    deletion = {}

    def delete_meanwhile():
        request = InThread(
            lambda: _client(doctor.user).delete(f"/api/v1/availability/weekly/{rule.pk}/")
        )
        deletion["request"] = request
        lock_wait_awaited(request)

    with RunAfter(schedule_services, "_window_with_slots_create", delete_meanwhile):
        made = InThread(schedule_services.slots_extend).join()
    deleted = deletion["request"].join()

    assert made >= 3
    assert deleted.status_code == 204, deleted.content
    assert not WeeklyRule.objects.exists()
    assert not AvailabilityWindow.objects.filter(doctor=doctor).exists()
    assert not Slot.objects.filter(doctor=doctor).exists()


class _LockHolder:
    """Hold a lock from another connection (`statement`, in an open transaction) until the
    request under test is answered, or at most `hold` seconds: a request that waits for the
    lock without a timeout would then go through, and the test fail rather than hang."""

    def __init__(self, statement: str, params=(), *, hold: float = 10) -> None:
        self.released = threading.Event()
        taken = threading.Event()

        def hold_lock():
            with _other_connection() as other, other.transaction():
                other.execute(statement, params)
                taken.set()
                self.released.wait(hold)

        self.thread = threading.Thread(target=hold_lock, daemon=True)
        self.thread.start()
        assert taken.wait(30)

    def release(self) -> None:
        self.released.set()
        self.thread.join(30)


def _schedule_lock_sql(doctor) -> tuple[str, list]:
    return ("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"schedule:{doctor.pk}"])


def _row_lock_sql(instance) -> tuple[str, list]:
    table = instance._meta.db_table
    return (f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [instance.pk])  # noqa: S608


def _window_create(doctor):
    start = in_future(days=5).replace(hour=9)
    request = {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()}
    return _schedule_lock_sql(doctor), lambda: _client(doctor.user).post(
        "/api/v1/availability/", request
    )


def _weekly_rule_create(doctor):
    rule = {"day_of_week": 2, "start_time": "09:00", "end_time": "11:00"}
    rule["effective_from"] = date.today().isoformat()
    return _schedule_lock_sql(doctor), lambda: _client(doctor.user).post(
        "/api/v1/availability/weekly/", rule
    )


def _weekly_rule_delete(doctor):
    rule = WeeklyRule.objects.create(
        doctor=doctor,
        day_of_week=2,
        start_time=time(9),
        end_time=time(11),
        effective_from=date.today(),
    )
    return _schedule_lock_sql(doctor), lambda: _client(doctor.user).delete(
        f"/api/v1/availability/weekly/{rule.pk}/"
    )


def _time_off_delete(doctor):
    time_off = TimeOff.objects.create(
        doctor=doctor, start=in_future(days=5), end=in_future(days=6), reason="Course"
    )
    return _row_lock_sql(time_off), lambda: _client(doctor.user).delete(
        f"/api/v1/time-off/{time_off.pk}/"
    )


def _holiday_delete(doctor):
    holiday = Holiday.objects.create(date=date.today() + timedelta(days=30), name="Founders")
    return _row_lock_sql(holiday), lambda: _client(AdminUserFactory.create()).delete(
        f"/api/v1/holidays/{holiday.pk}/"
    )


def _penalty_resolve(doctor):
    appointment = appointment_at(doctor, PatientFactory.create(), hours=-3, status="no_show")
    penalty = Penalty.objects.create(patient=appointment.patient, appointment=appointment)
    return _row_lock_sql(penalty), lambda: _client(AdminUserFactory.create()).post(
        f"/api/v1/penalties/{penalty.pk}/resolve/"
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "write",
    [
        _window_create,
        _weekly_rule_create,
        _weekly_rule_delete,
        _time_off_delete,
        _holiday_delete,
        _penalty_resolve,
    ],
    ids=lambda write: write.__name__.strip("_"),
)
def test_a_write_waiting_for_a_held_lock_answers_503_lock_timeout(write, settings):
    settings.BOOKING_LOCK_TIMEOUT_MS = 200
    (statement, params), request = write(DoctorFactory.create())
    holder = _LockHolder(statement, params)
    try:
        response = request()
    finally:
        holder.release()
    assert response.status_code == 503, response.content
    assert error_codes(response) == ["lock_timeout"]
    assert int(response["Retry-After"]) >= 1
    # Once the lock is free, the same request goes through.
    assert request().status_code in (200, 201, 204)
