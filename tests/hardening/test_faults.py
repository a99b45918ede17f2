"""Failures in the middle of a request: a killed database connection, a lock that stays
held, an unreachable database. The client gets a clean 503 and no half-done change."""

import psycopg
import pytest
from django.db import connection

from appointments import services
from appointments.models import Appointment, AppointmentStatusChange
from audit.models import AuditLog
from scheduling.models import Slot
from tests.conftest import client_for, error_codes
from tests.factories import AppointmentFactory, DoctorFactory, PatientFactory
from tests.schedule import slot_published

pytestmark = pytest.mark.django_db(transaction=True)


def _admin_connection():
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    return psycopg.connect(autocommit=True, **params)


def _kill_own_backend() -> None:
    """Terminate this thread's PostgreSQL session from another connection, as a network
    failure or a database restart would."""
    pid = connection.connection.info.backend_pid
    with _admin_connection() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def _client(user):
    """A client that returns a 5xx answer instead of re-raising the error behind it (the
    handler reports 5xx to error monitoring, which the test client would turn into a raise)."""
    client = client_for(user)
    client.raise_request_exception = False
    return client


def _dropping_after(monkeypatch, name: str) -> None:
    real = getattr(services, name)

    def wrapper(*args, **kwargs):
        result = real(*args, **kwargs)
        _kill_own_backend()
        return result

    monkeypatch.setattr(services, name, wrapper)


def test_a_connection_dropped_mid_booking_is_503_and_books_nothing(monkeypatch):
    patient = PatientFactory()
    slot = slot_published(DoctorFactory())
    client = _client(patient.user)
    _dropping_after(monkeypatch, "statements_run")  # the locks and reads, before the writes
    response = client.post("/api/v1/appointments/", {"slot": str(slot.pk)})
    assert response.status_code == 503
    assert response.json()["type"] == "server_error"
    assert "X-Request-ID" in response
    monkeypatch.undo()
    connection.close_if_unusable_or_obsolete()  # what Django does when a request ends
    assert not Appointment.objects.exists()
    assert not Slot.objects.get(pk=slot.pk).is_booked
    assert not AuditLog.objects.filter(target_type="appointment").exists()
    retry = client.post("/api/v1/appointments/", {"slot": str(slot.pk)})
    assert retry.status_code == 201


def test_a_connection_dropped_mid_transition_is_503_and_moves_nothing(monkeypatch):
    appointment = AppointmentFactory(status="pending")
    client = _client(appointment.doctor.user)
    _dropping_after(monkeypatch, "status_change_record")
    response = client.post(f"/api/v1/appointments/{appointment.pk}/confirm/")
    assert response.status_code == 503
    monkeypatch.undo()
    connection.close_if_unusable_or_obsolete()
    appointment.refresh_from_db()
    assert appointment.status == "pending"
    assert not AppointmentStatusChange.objects.exists()
    assert client.post(f"/api/v1/appointments/{appointment.pk}/confirm/").status_code == 200


def test_a_lock_held_too_long_is_503_with_retry_after(settings):
    settings.BOOKING_LOCK_TIMEOUT_MS = 200
    slot = slot_published(DoctorFactory())
    with _admin_connection() as other, other.transaction():
        other.execute("SELECT 1 FROM scheduling_slot WHERE id = %s FOR UPDATE", [slot.pk])
        response = _client(PatientFactory().user).post(
            "/api/v1/appointments/", {"slot": str(slot.pk)}
        )
    assert response.status_code == 503
    assert error_codes(response) == ["lock_timeout"]
    assert int(response["Retry-After"]) >= 1
    assert not Appointment.objects.exists()


def test_health_is_503_while_the_database_is_unreachable(anon_client):
    real_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"
    try:
        response = anon_client.get("/api/v1/health/")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real_port
    assert response.status_code == 503
    assert response.json()["database"] == "down"
    assert anon_client.get("/api/v1/health/").status_code == 200
