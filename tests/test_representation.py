"""The serializers that build their rows by hand (`core.api.rows.HandBuiltRows`) give exactly
the JSON their declared fields give, keys in the same order, for every kind of row they are
handed: a list page's row, a whole appointment, one fresh from booking, with and without its
optional values."""

import json

import pytest
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from appointments.api.serializers import AppointmentDetailSerializer, AppointmentSerializer
from appointments.models import Appointment
from appointments.selectors import appointment_list_page, appointment_list_visible
from appointments.services import appointment_book, appointment_reschedule
from scheduling.api.serializers import SlotSerializer
from scheduling.selectors import slot_list_free
from tests.factories import DoctorFactory, PatientFactory, UserFactory
from tests.schedule import window_published

pytestmark = pytest.mark.django_db


def _both(serializer_class, row) -> tuple[dict, dict]:
    """(the hand-built row, DRF's row from the declared fields), each as the JSON sent."""
    serializer = serializer_class()
    by_fields = serializers.Serializer.to_representation(serializer, row)
    as_json = lambda data: json.loads(JSONRenderer().render(data))  # noqa: E731
    fast = as_json(serializer.to_representation(row))
    assert list(fast) == list(by_fields), "the keys in the declared fields' order"
    return fast, as_json(by_fields)


@pytest.fixture
def booked():
    """Two appointments of one patient: one rescheduled into the other, with a reason, and
    the doctor's names in full."""
    doctor = DoctorFactory(user=UserFactory(first_name="Ada", last_name="Okafor"))
    patient = PatientFactory(user=UserFactory(first_name="", last_name="Moreau"))
    slots = list(window_published(doctor, hours=3).slots.order_by("start"))
    first = appointment_book(actor=patient.user, patient=patient, slot_id=slots[0].pk)
    moved = appointment_reschedule(
        appointment_id=first.pk, actor=patient.user, slot_id=slots[2].pk, reason="Knee, again"
    )
    return patient, doctor, first, moved


def test_appointment_rows_match_the_declared_fields(booked):
    patient, doctor, first, moved = booked
    rows = [
        *appointment_list_page(user=patient.user),
        *appointment_list_page(user=doctor.user),
        *appointment_list_visible(user=doctor.user),
        moved,  # as the booking service returns it
    ]
    for row in rows:
        fast, by_fields = _both(AppointmentSerializer, row)
        assert fast == by_fields
    fast, by_fields = _both(AppointmentDetailSerializer, Appointment.objects.get(pk=moved.pk))
    assert fast == by_fields
    assert fast["rescheduled_from"] == str(first.pk)
    assert fast["patient_name"] == "Moreau"
    assert fast["doctor_name"] == "Ada Okafor"
    assert fast["start"].endswith("Z")


def test_slot_rows_match_the_declared_fields():
    doctor = DoctorFactory(user=UserFactory(first_name="Ada", last_name=""))
    window_published(doctor, hours=2)
    rows = list(slot_list_free(doctor_id=doctor.pk))
    assert len(rows) == 2
    for row in rows:
        fast, by_fields = _both(SlotSerializer, row)
        assert fast == by_fields
        assert fast["doctor_name"] == "Ada"
