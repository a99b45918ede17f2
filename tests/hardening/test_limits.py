import pytest
from django.core.cache import cache

from appointments.models import Appointment
from doctors.models import Specialization
from tests.conftest import client_for, error_codes
from tests.factories import PASSWORD, DoctorFactory, in_future
from tests.schedule import slot_published

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()
    yield
    cache.clear()


def test_a_signed_in_user_past_their_rate_gets_429_with_retry_after(settings, patient):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "user": "3/minute"}
    client = client_for(patient.user)
    statuses = [client.get("/api/v1/auth/me/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/auth/me/")
    assert error_codes(response) == ["throttled"]
    assert 0 < int(response["Retry-After"]) <= 60


def test_anonymous_callers_are_limited_by_address(settings, anon_client):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "anon": "2/minute"}
    assert [anon_client.get("/api/v1/doctors/").status_code for _ in range(3)] == [200, 200, 429]
    other_address = anon_client.get("/api/v1/doctors/", REMOTE_ADDR="198.51.100.7")
    assert other_address.status_code == 200


def test_sign_in_has_a_tighter_scope(settings, anon_client, patient):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "sign_in": "2/minute"}
    body = {"username": patient.user.username, "password": PASSWORD}
    statuses = [anon_client.post("/api/v1/auth/token/", body).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_registration_has_a_tighter_scope(settings, anon_client):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "register": "1/hour"}
    body = {
        "username": "first",
        "email": "first@example.test",
        "password": PASSWORD,
        "first_name": "A",
        "last_name": "B",
        "date_of_birth": "1990-01-01",
    }
    assert anon_client.post("/api/v1/patients/", body).status_code == 201
    second = anon_client.post("/api/v1/patients/", {**body, "username": "second"})
    assert second.status_code == 429
    assert anon_client.get("/api/v1/specializations/").status_code == 200


def test_rate_limits_switch_off(settings, patient):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "user": "1/minute"}
    settings.RATE_LIMITS_ENABLED = False
    client = client_for(patient.user)
    assert {client.get("/api/v1/auth/me/").status_code for _ in range(5)} == {200}


def test_an_oversized_body_is_413_before_parsing(settings, patient_client):
    settings.MAX_REQUEST_BODY_BYTES = 1024
    response = patient_client.post("/api/v1/appointments/", {"slot": "x", "reason": "a" * 2000})
    assert response.status_code == 413
    assert error_codes(response) == ["request_too_large"]


def test_page_size_is_capped(admin_client):
    Specialization.objects.bulk_create(Specialization(name=f"S{n}") for n in range(120))
    response = admin_client.get("/api/v1/specializations/", {"page_size": 10_000})
    assert len(response.json()["results"]) == 100


def test_a_patient_cannot_hoard_upcoming_appointments(settings, patient, patient_client):
    settings.MAX_ACTIVE_APPOINTMENTS_PER_PATIENT = 2
    doctor = DoctorFactory()
    slots = [slot_published(doctor, start=in_future(days=2 + n).replace(hour=9)) for n in range(3)]
    assert [
        patient_client.post("/api/v1/appointments/", {"slot": str(s.pk)}).status_code
        for s in slots[:2]
    ] == [201, 201]
    refused = patient_client.post("/api/v1/appointments/", {"slot": str(slots[2].pk)})
    assert refused.status_code == 409
    assert error_codes(refused) == ["appointment_limit_reached"]
    assert Appointment.objects.filter(patient=patient).count() == 2
    first = Appointment.objects.filter(patient=patient).first()
    patient_client.post(f"/api/v1/appointments/{first.pk}/cancel/")
    assert (
        patient_client.post("/api/v1/appointments/", {"slot": str(slots[2].pk)}).status_code == 201
    )
