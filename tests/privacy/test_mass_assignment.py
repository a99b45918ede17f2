"""Privileged fields sent to writable endpoints change nothing (OWASP API3): each endpoint
refuses them with 400 `unknown_field`, writes nothing, and accepts the same body without
them."""

import uuid

import pytest
from django.apps import apps
from django.core import serializers as django_serializers

from tests.conftest import client_for, error_attrs, error_codes
from tests.factories import PASSWORD, AppointmentFactory, DoctorFactory, PatientFactory, in_future
from tests.schedule import slot_published

pytestmark = pytest.mark.django_db

FOREIGN_ID = str(uuid.uuid4())
PRIVILEGED = {
    "role": "admin",
    "is_staff": True,
    "is_superuser": True,
    "is_active": False,
    "id": FOREIGN_ID,
    "user": FOREIGN_ID,
    "status": "completed",
    "rating": 5,
    "is_blacklisted": True,
    "is_booked": True,
    "is_override_window": True,
    "created_by": FOREIGN_ID,
}


def _database_state() -> str:
    """Every row of the project's own tables (not the audit log, which records refusals of
    nothing and sign-ins), serialized: equal before and after means nothing changed."""
    models = [
        model
        for model in apps.get_models()
        if model._meta.app_label
        in ("accounts", "doctors", "patients", "scheduling", "appointments")
        and model._meta.model_name != "loginfailure"
    ]
    return "".join(
        django_serializers.serialize("json", model._default_manager.order_by("pk"))
        for model in models
    )


def _cases():
    start = in_future(days=4).replace(hour=9)

    def register(world):
        return (
            "post",
            "/api/v1/patients/",
            None,
            {
                "username": "mallory",
                "email": "m@example.test",
                "password": PASSWORD,
                "first_name": "M",
                "last_name": "R",
                "date_of_birth": "1990-01-01",
            },
        )

    def patient_update(world):
        return (
            "patch",
            f"/api/v1/patients/{world['patient'].pk}/",
            world["patient"].user,
            {
                "contact_number": "+44 1",
            },
        )

    def doctor_update(world):
        return (
            "patch",
            f"/api/v1/doctors/{world['doctor'].pk}/",
            world["doctor"].user,
            {"bio": "Hi"},
        )

    def window(world):
        return (
            "post",
            "/api/v1/availability/",
            world["doctor"].user,
            {
                "start": start.isoformat(),
                "end": start.replace(hour=11).isoformat(),
            },
        )

    def time_off(world):
        return (
            "post",
            "/api/v1/time-off/",
            world["doctor"].user,
            {
                "start": start.isoformat(),
                "end": start.replace(hour=10).isoformat(),
            },
        )

    def book(world):
        return (
            "post",
            "/api/v1/appointments/",
            world["patient"].user,
            {
                "slot": str(world["slot"].pk),
            },
        )

    def cancel(world):
        return (
            "post",
            f"/api/v1/appointments/{world['appointment'].pk}/cancel/",
            world["patient"].user,
            {"reason": "Away"},
        )

    def medical_record(world):
        return (
            "patch",
            f"/api/v1/patients/{world['patient'].pk}/medical-record/",
            world["appointment"].doctor.user,
            {"allergies": "Latex"},
        )

    def specialization(world):
        return "post", "/api/v1/specializations/", world["admin"], {"name": "Dermatology"}

    return [
        register,
        patient_update,
        doctor_update,
        window,
        time_off,
        book,
        cancel,
        medical_record,
        specialization,
    ]


@pytest.mark.parametrize("case", _cases(), ids=lambda case: case.__name__)
def test_privileged_fields_are_refused_and_change_nothing(case, admin_user):
    patient = PatientFactory()
    world = {
        "patient": patient,
        "doctor": DoctorFactory(),
        "slot": slot_published(DoctorFactory()),
        "appointment": AppointmentFactory(patient=patient),
        "admin": admin_user,
    }
    method, url, user, body = case(world)
    client = client_for(user)
    before = _database_state()
    response = getattr(client, method)(url, {**body, **PRIVILEGED})
    assert response.status_code == 400, response.json()
    assert set(error_codes(response)) == {"unknown_field"}
    assert sorted(error_attrs(response)) == sorted(PRIVILEGED)
    assert _database_state() == before
    assert getattr(client, method)(url, body).status_code in (200, 201)
