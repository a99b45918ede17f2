"""Booking under real concurrency: threads with their own PostgreSQL connections, released
together, each sending a real HTTP request through the whole stack."""

from datetime import timedelta

import pytest

from appointments.models import Appointment
from scheduling.models import Slot
from tests.concurrency import run_at_once
from tests.conftest import client_for
from tests.factories import DoctorFactory, PatientFactory, in_future
from tests.schedule import slot_published, window_published

URL = "/api/v1/appointments/"
pytestmark = pytest.mark.django_db(transaction=True)


def booking(user, slot_id, **headers):
    client = client_for(user)

    def call():
        response = client.post(URL, {"slot": str(slot_id)}, **headers)
        return response.status_code, response.json()

    return call


def codes(body) -> list[str]:
    return [error["code"] for error in body.get("errors", [])]


def test_fifty_patients_booking_one_slot_at_once_make_exactly_one_appointment():
    patients = PatientFactory.create_batch(50)
    doctor = DoctorFactory()
    for round_number in range(3):
        slot = slot_published(doctor, start=in_future(days=2 + round_number).replace(hour=10))
        results = run_at_once([booking(p.user, slot.pk) for p in patients], workers=50)
        statuses = sorted(status for status, _ in results)
        assert statuses == [201] + [409] * 49, statuses
        losers = [body for status, body in results if status == 409]
        assert all(codes(body) == ["slot_unavailable"] for body in losers)
        assert Appointment.objects.filter(slot=slot).count() == 1
        assert Slot.objects.get(pk=slot.pk).is_booked


def test_one_patient_booking_two_overlapping_slots_of_two_doctors_wins_once():
    patient = PatientFactory()
    for round_number in range(5):
        start = in_future(days=2 + round_number).replace(hour=11)
        first = slot_published(DoctorFactory(), start=start)
        second = slot_published(DoctorFactory(), start=start + timedelta(minutes=30))
        results = run_at_once([booking(patient.user, first.pk), booking(patient.user, second.pk)])
        assert sorted(status for status, _ in results) == [201, 409]
        loser = next(body for status, body in results if status == 409)
        assert codes(loser) == ["patient_conflict"]
    assert Appointment.objects.filter(patient=patient).count() == 5


def test_a_hundred_patients_booking_a_hundred_slots_of_one_doctor_all_succeed():
    """Locks are per slot and per patient, never per doctor or global. PostgreSQL here allows
    100 connections, so 48 threads (released together) carry the 100 requests."""
    doctor = DoctorFactory()
    slots = []
    for day in range(13):
        window = window_published(doctor, start=in_future(days=2 + day).replace(hour=8), hours=8)
        slots.extend(window.slots.order_by("start"))
    patients = PatientFactory.create_batch(100)
    calls = [booking(p.user, s.pk) for p, s in zip(patients, slots[:100], strict=True)]
    results = run_at_once(calls, workers=48)
    assert [status for status, _ in results] == [201] * 100
    assert Appointment.objects.filter(doctor=doctor).count() == 100


def test_two_requests_with_one_idempotency_key_at_once_book_once():
    patient = PatientFactory()
    slot = slot_published(DoctorFactory(), start=in_future(days=3).replace(hour=9))
    for round_number in range(3):
        key = f"retry-{round_number}"
        Appointment.objects.all().delete()
        Slot.objects.filter(pk=slot.pk).update(is_booked=False)
        results = run_at_once(
            [booking(patient.user, slot.pk, HTTP_IDEMPOTENCY_KEY=key) for _ in range(4)]
        )
        assert [status for status, _ in results] == [201] * 4
        assert len({body["id"] for _, body in results}) == 1
        assert Appointment.objects.count() == 1
