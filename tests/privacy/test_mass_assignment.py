"""Privileged fields sent to writable endpoints change nothing (OWASP API3/API6)."""

import uuid

import pytest

from accounts.models import User
from appointments.models import Appointment
from doctors.models import Doctor, Specialization
from scheduling.models import AvailabilityWindow, TimeOff
from tests.factories import PASSWORD, DoctorFactory, PatientFactory, in_future
from tests.schedule import slot_published

pytestmark = pytest.mark.django_db

FOREIGN_ID = str(uuid.uuid4())
PRIVILEGED = {
    "role": "admin",
    "is_staff": True,
    "is_superuser": True,
    "is_active": False,
    "id": FOREIGN_ID,
    "pk": FOREIGN_ID,
    "user": FOREIGN_ID,
    "status": "completed",
    "rating": 5,
    "rating_count": 99,
    "is_blacklisted": True,
    "is_booked": True,
    "is_override": True,
    "created_by": FOREIGN_ID,
}


def test_registration_makes_an_ordinary_active_patient(anon_client):
    response = anon_client.post(
        "/api/v1/patients/",
        {
            **PRIVILEGED,
            "username": "mallory",
            "email": "m@example.test",
            "password": PASSWORD,
            "first_name": "M",
            "last_name": "R",
            "date_of_birth": "1990-01-01",
        },
    )
    assert response.status_code == 201
    user = User.objects.get(username="mallory")
    assert (user.role, user.is_staff, user.is_superuser, user.is_active) == (
        "patient",
        False,
        False,
        True,
    )
    assert str(user.pk) != FOREIGN_ID


def test_a_patient_cannot_promote_themselves(patient_client, patient):
    response = patient_client.patch(f"/api/v1/patients/{patient.pk}/", PRIVILEGED)
    assert response.status_code == 200
    patient.user.refresh_from_db()
    assert (patient.user.role, patient.user.is_staff, patient.user.is_active) == (
        "patient",
        False,
        True,
    )


def test_a_doctor_changes_only_bio_and_approval(doctor_client, doctor):
    before = Doctor.objects.values().get(pk=doctor.pk)
    response = doctor_client.patch(
        f"/api/v1/doctors/{doctor.pk}/",
        {**PRIVILEGED, "license_number": "FORGED", "specialization": 999, "bio": "Updated."},
    )
    assert response.status_code == 200
    after = Doctor.objects.values().get(pk=doctor.pk)
    assert after["bio"] == "Updated."
    assert {k: v for k, v in after.items() if k not in ("bio", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("bio", "updated_at")
    }


def test_schedule_writes_are_always_for_the_calling_doctor(doctor_client, doctor, other_doctor):
    start = in_future(days=4).replace(hour=9)
    window = doctor_client.post(
        "/api/v1/availability/",
        {
            **PRIVILEGED,
            "doctor": str(other_doctor.pk),
            "start": start.isoformat(),
            "end": start.replace(hour=11).isoformat(),
        },
    )
    assert window.status_code == 201
    created = AvailabilityWindow.objects.get(pk=window.json()["id"])
    assert (created.doctor_id, created.is_override) == (doctor.pk, False)
    assert not created.slots.filter(is_booked=True).exists()
    time_off = doctor_client.post(
        "/api/v1/time-off/",
        {
            **PRIVILEGED,
            "doctor": str(other_doctor.pk),
            "start": start.isoformat(),
            "end": start.replace(hour=10).isoformat(),
        },
    )
    assert TimeOff.objects.get(pk=time_off.json()["id"]).doctor_id == doctor.pk


def test_a_booking_is_the_patients_own_and_starts_as_the_rules_say(patient_client, patient):
    slot = slot_published(DoctorFactory())
    other = PatientFactory()
    response = patient_client.post(
        "/api/v1/appointments/",
        {
            **PRIVILEGED,
            "slot": str(slot.pk),
            "patient": str(other.pk),
            "doctor": str(DoctorFactory().pk),
        },
    )
    assert response.status_code == 201
    appointment = Appointment.objects.get(pk=response.json()["id"])
    assert appointment.patient_id == patient.pk
    assert appointment.doctor_id == slot.doctor_id
    assert appointment.status == "pending"
    assert appointment.is_override is False
    assert appointment.created_by_id == patient.pk


def test_a_move_ignores_a_status_in_its_body(patient_client, patient):
    slot = slot_published(DoctorFactory())
    booked = patient_client.post("/api/v1/appointments/", {"slot": str(slot.pk)}).json()
    response = patient_client.post(
        f"/api/v1/appointments/{booked['id']}/cancel/", {**PRIVILEGED, "status": "completed"}
    )
    assert response.json()["status"] == "cancelled"


def test_specializations_get_their_own_ids(admin_client):
    response = admin_client.post("/api/v1/specializations/", {"id": 424242, "name": "Dermatology"})
    assert response.status_code == 201
    assert Specialization.objects.get(name="Dermatology").pk != 424242
