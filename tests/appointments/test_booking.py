from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction

from appointments import services
from appointments.models import Appointment, AppointmentStatusChange, IdempotencyRecord
from appointments.selectors import PatientActiveCounts
from appointments.sweeps import no_show_sweep
from core.statements import Statement
from doctors.services import doctor_blacklist
from scheduling.models import AvailabilityWindow, Slot
from tests.conftest import client_for, error_codes
from tests.factories import AppointmentFactory, DoctorFactory, PatientFactory, in_future
from tests.schedule import slot_published, window_published

URL = "/api/v1/appointments/"


def book(client, slot, **extra):
    return client.post(URL, {"slot": str(slot.pk), **extra})


@pytest.fixture
def slot(doctor):
    return slot_published(doctor, start=in_future(days=2).replace(hour=10))


@pytest.mark.django_db
class TestBooking:
    def test_a_patient_books_a_free_slot_which_waits_for_the_doctor(
        self, patient_client, patient, doctor, slot
    ):
        response = book(patient_client, slot, reason="Persistent cough")
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["status"] == "pending"
        assert body["patient"] == str(patient.pk)
        assert body["doctor"] == str(doctor.pk)
        assert body["start"] == slot.start.isoformat().replace("+00:00", "Z")
        assert body["reason"] == "Persistent cough"
        slot.refresh_from_db()
        assert slot.is_booked
        history = AppointmentStatusChange.objects.get(appointment_id=body["id"])
        assert (history.from_status, history.to_status, history.actor_id) == (
            "",
            "pending",
            patient.pk,
        )

    def test_a_doctor_without_approval_gets_confirmed_bookings(self, patient_client, doctor, slot):
        doctor.requires_approval = False
        doctor.save()
        assert book(patient_client, slot).json()["status"] == "confirmed"

    def test_a_held_slot_is_slot_unavailable(self, patient_client, slot):
        AppointmentFactory(slot=slot, doctor=slot.doctor)
        response = book(patient_client, slot)
        assert response.status_code == 409
        assert error_codes(response) == ["slot_unavailable"]

    def test_an_unknown_slot_is_slot_unavailable(self, patient_client):
        response = patient_client.post(URL, {"slot": "00000000-0000-0000-0000-000000000000"})
        assert response.status_code == 409
        assert error_codes(response) == ["slot_unavailable"]

    def test_a_started_slot_is_slot_in_past(self, patient_client, doctor):
        slot = slot_published(doctor, start=in_future(hours=2))
        Slot.objects.filter(pk=slot.pk).update(start=in_future(hours=-1), end=in_future(hours=0))
        response = book(patient_client, slot)
        assert response.status_code == 400
        assert error_codes(response) == ["slot_in_past"]

    def test_a_slot_inside_the_lead_time_is_refused(self, patient_client, doctor, settings):
        slot = slot_published(doctor, start=in_future(hours=3))
        settings.BOOKING_LEAD_TIME = timedelta(hours=4)
        response = book(patient_client, slot)
        assert response.status_code == 400
        assert error_codes(response) == ["lead_time_violation"]

    def test_a_slot_beyond_the_horizon_is_refused(self, patient_client, doctor, settings):
        slot = slot_published(doctor, start=in_future(days=10))
        settings.BOOKING_HORIZON_DAYS = 7
        response = book(patient_client, slot)
        assert response.status_code == 400
        assert error_codes(response) == ["beyond_booking_horizon"]

    def test_a_blacklisted_doctors_slot_is_doctor_unavailable(self, patient_client, doctor, slot):
        doctor_blacklist(doctor=doctor, reason="Suspended")
        response = book(patient_client, slot)
        assert response.status_code == 409
        assert error_codes(response) == ["doctor_unavailable"]

    def test_a_slot_under_time_off_is_slot_unavailable(self, patient_client, doctor, slot):
        doctor.time_off.create(start=slot.start - timedelta(hours=1), end=slot.end)
        response = book(patient_client, slot)
        assert response.status_code == 409
        assert error_codes(response) == ["slot_unavailable"]

    def test_an_overlapping_appointment_of_the_patient_is_patient_conflict(
        self, patient_client, patient, slot
    ):
        same_time = slot_published(DoctorFactory(), start=slot.start)
        assert book(patient_client, same_time).status_code == 201
        response = book(patient_client, slot)
        assert response.status_code == 409
        assert error_codes(response) == ["patient_conflict"]
        assert Appointment.objects.filter(patient=patient).count() == 1

    def test_doctors_cannot_book(self, doctor_client, slot):
        assert book(doctor_client, slot).status_code == 403
        assert not Appointment.objects.exists()

    def test_a_patient_books_only_for_themselves(
        self, patient_client, patient, other_patient, slot
    ):
        response = book(patient_client, slot, patient=str(other_patient.pk))
        assert response.status_code == 201
        assert response.json()["patient"] == str(patient.pk)

    def test_an_admin_books_for_a_named_patient(self, admin_client, patient, slot):
        missing = book(admin_client, slot)
        assert missing.status_code == 400
        response = book(admin_client, slot, patient=str(patient.pk))
        assert response.status_code == 201
        assert response.json()["patient"] == str(patient.pk)

    @pytest.mark.parametrize("body", [{}, {"slot": "not-a-uuid"}, {"slot": 12}, {"slot": None}])
    def test_malformed_bodies_are_400(self, patient_client, body):
        response = patient_client.post(URL, body)
        assert response.status_code == 400
        assert response.json()["type"] == "validation_error"


@pytest.mark.django_db
class TestOverride:
    def body(self, patient, doctor, start, hours=1):
        return {
            "override": True,
            "patient": str(patient.pk),
            "doctor": str(doctor.pk),
            "start": start.isoformat(),
            "end": (start + timedelta(hours=hours)).isoformat(),
            "reason": "Urgent review",
        }

    def test_an_admin_books_outside_published_availability(self, admin_client, patient, doctor):
        start = in_future(days=1).replace(hour=19)
        response = admin_client.post(URL, self.body(patient, doctor, start))
        assert response.status_code == 201, response.json()
        appointment = Appointment.objects.get(pk=response.json()["id"])
        assert appointment.is_override
        assert appointment.slot.window.is_override
        assert appointment.history.get().note == "Booked outside published availability."

    def test_an_override_never_overlaps_the_patients_active_appointment(
        self, admin_client, patient, doctor, slot
    ):
        AppointmentFactory(patient=patient, slot=slot_published(DoctorFactory(), start=slot.start))
        response = admin_client.post(
            URL, self.body(patient, doctor, slot.start - timedelta(days=1))
        )
        assert response.status_code == 201
        response = admin_client.post(URL, self.body(patient, DoctorFactory(), slot.start))
        assert response.status_code == 409
        assert error_codes(response) == ["patient_conflict"]

    def test_an_override_over_published_availability_is_slot_unavailable(
        self, admin_client, patient, doctor, slot
    ):
        response = admin_client.post(URL, self.body(patient, doctor, slot.start))
        assert response.status_code == 409
        assert error_codes(response) == ["slot_unavailable"]

    def test_only_admins_override(self, patient_client, patient, doctor):
        response = patient_client.post(URL, self.body(patient, doctor, in_future(days=1)))
        assert response.status_code == 403
        assert not Appointment.objects.exists()


@pytest.mark.django_db
class TestOverrideCalledOff:
    """An override's one-slot window is an hour the doctor never published: once its visit is
    called off (cancelled, rejected, moved, or not confirmed in time), nobody else may book the
    doctor then, and the doctor may publish that hour."""

    def _override(self, admin_client, patient, doctor) -> dict:
        start = in_future(days=2).replace(hour=20)
        response = admin_client.post(URL, TestOverride().body(patient, doctor, start))
        assert response.status_code == 201, response.json()
        return response.json()

    def _call_off(self, how, booked, patient, doctor, admin_client):
        url = f"{URL}{booked['id']}"
        if how == "patient cancels":
            return client_for(patient.user).post(f"{url}/cancel/").status_code
        if how == "doctor rejects":
            return client_for(doctor.user).post(f"{url}/reject/", {"reason": "No"}).status_code
        if how == "admin reschedules":
            slot = slot_published(doctor, start=in_future(days=3).replace(hour=9))
            return admin_client.post(f"{url}/reschedule/", {"slot": str(slot.pk)}).status_code
        with time_machine.travel(datetime.fromisoformat(booked["start"]), tick=False):
            return 200 if no_show_sweep().cancelled == 1 else 409

    @pytest.mark.parametrize(
        "how", ["patient cancels", "doctor rejects", "admin reschedules", "the sweep expires it"]
    )
    def test_it_leaves_no_availability_behind(
        self, how, admin_client, patient, other_patient, doctor
    ):
        booked = self._override(admin_client, patient, doctor)
        assert self._call_off(how, booked, patient, doctor, admin_client) in (200, 201)

        day = booked["start"][:10]
        listed = [
            s["start"]
            for path in (f"/api/v1/doctors/{doctor.pk}/slots/", "/api/v1/slots/")
            for s in client_for(other_patient.user)
            .get(path, {"doctor": str(doctor.pk), "date_from": day, "date_to": day})
            .json()["results"]
        ]
        assert booked["start"] not in listed
        again = client_for(other_patient.user).post(URL, {"slot": booked["slot"]})
        assert again.status_code == 409
        assert error_codes(again) == ["slot_unavailable"]
        assert not AvailabilityWindow.objects.filter(doctor=doctor, is_override=True).exists()
        assert Appointment.objects.get(pk=booked["id"]).slot is None
        published = client_for(doctor.user).post(
            "/api/v1/availability/",
            {"start": booked["start"], "end": booked["end"]},
        )
        assert published.status_code == 201, published.json()

    def test_a_completed_override_keeps_its_window(self, admin_client, patient, doctor):
        booked = self._override(admin_client, patient, doctor)
        assert client_for(doctor.user).post(f"{URL}{booked['id']}/confirm/").status_code == 200
        with time_machine.travel(datetime.fromisoformat(booked["end"]), tick=False):
            response = client_for(doctor.user).post(
                f"{URL}{booked['id']}/complete/", {"diagnosis": "Fine", "treatment_notes": "-"}
            )
        assert response.status_code == 200
        assert Appointment.objects.get(pk=booked["id"]).slot.window.is_override


@pytest.mark.django_db
class TestDatabaseRefusesDoubleBooking:
    def test_a_second_active_appointment_on_a_slot_is_an_integrity_error(self, slot):
        AppointmentFactory(slot=slot, doctor=slot.doctor)
        with pytest.raises(IntegrityError), transaction.atomic():
            Appointment.objects.create(
                patient=PatientFactory(),
                doctor=slot.doctor,
                slot=slot,
                start=slot.start,
                end=slot.end,
                status="pending",
            )

    def test_overlapping_active_appointments_of_a_doctor_are_an_integrity_error(self, doctor, slot):
        AppointmentFactory(slot=slot, doctor=doctor)
        other_window_slot = slot_published(DoctorFactory(), start=slot.start)
        with pytest.raises(IntegrityError), transaction.atomic():
            Appointment.objects.create(
                patient=PatientFactory(),
                doctor=doctor,
                slot=other_window_slot,
                start=slot.start + timedelta(minutes=30),
                end=slot.end + timedelta(minutes=30),
            )

    def test_overlapping_active_appointments_of_a_patient_are_an_integrity_error(
        self, patient, slot
    ):
        AppointmentFactory(slot=slot, doctor=slot.doctor, patient=patient)
        elsewhere = slot_published(DoctorFactory(), start=slot.start)
        with pytest.raises(IntegrityError), transaction.atomic():
            Appointment.objects.create(
                patient=patient,
                doctor=elsewhere.doctor,
                slot=elsewhere,
                start=elsewhere.start,
                end=elsewhere.end,
                status="confirmed",
            )

    def test_inactive_appointments_do_not_hold_the_slot(self, slot):
        AppointmentFactory(slot=slot, doctor=slot.doctor, status="cancelled")
        AppointmentFactory(slot=slot, doctor=slot.doctor, status="confirmed")

    def test_a_violation_that_slips_past_the_checks_is_the_same_409(
        self, patient_client, patient, slot, monkeypatch
    ):
        elsewhere = slot_published(DoctorFactory(), start=slot.start)
        AppointmentFactory(slot=elsewhere, doctor=elsewhere.doctor, patient=patient)
        # The check reads nothing: the exclusion constraint is the last word.
        nothing_active = Statement("SELECT 1", [], lambda rows: PatientActiveCounts(0, frozenset()))
        monkeypatch.setattr(
            services, "patient_active_counts_statement", lambda **kwargs: nothing_active
        )
        response = book(patient_client, slot)
        assert response.status_code == 409
        assert error_codes(response) == ["patient_conflict"]

    def test_a_slot_held_behind_the_services_back_is_still_slot_unavailable(
        self, patient_client, slot
    ):
        AppointmentFactory(slot=slot, doctor=slot.doctor)
        Slot.objects.filter(pk=slot.pk).update(is_booked=False)
        response = book(patient_client, slot)
        assert response.status_code == 409
        assert error_codes(response) == ["slot_unavailable"]


@pytest.mark.django_db
class TestIdempotencyKey:
    def test_a_replay_returns_the_first_answer_and_books_nothing_more(self, patient_client, slot):
        first = patient_client.post(URL, {"slot": str(slot.pk)}, HTTP_IDEMPOTENCY_KEY="k-1")
        again = patient_client.post(URL, {"slot": str(slot.pk)}, HTTP_IDEMPOTENCY_KEY="k-1")
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
        assert Appointment.objects.count() == 1

    def test_the_same_key_with_another_body_is_422(self, patient_client, doctor, slot):
        other = slot_published(doctor, start=slot.start + timedelta(hours=1))
        patient_client.post(URL, {"slot": str(slot.pk)}, HTTP_IDEMPOTENCY_KEY="k-2")
        response = patient_client.post(URL, {"slot": str(other.pk)}, HTTP_IDEMPOTENCY_KEY="k-2")
        assert response.status_code == 422
        assert error_codes(response) == ["idempotency_key_reused"]
        assert Appointment.objects.count() == 1

    def test_keys_belong_to_their_user(self, patient_client, doctor, slot):
        other = slot_published(doctor, start=slot.start + timedelta(hours=1))
        patient_client.post(URL, {"slot": str(slot.pk)}, HTTP_IDEMPOTENCY_KEY="shared")
        response = client_for(PatientFactory().user).post(
            URL, {"slot": str(other.pk)}, HTTP_IDEMPOTENCY_KEY="shared"
        )
        assert response.status_code == 201
        assert Appointment.objects.count() == 2

    def test_a_refused_booking_does_not_claim_the_key(self, patient_client, doctor, slot):
        AppointmentFactory(slot=slot, doctor=doctor)
        refused = patient_client.post(URL, {"slot": str(slot.pk)}, HTTP_IDEMPOTENCY_KEY="k-3")
        assert refused.status_code == 409
        assert not IdempotencyRecord.objects.exists()

    def test_an_overlong_key_is_400(self, patient_client, slot):
        response = patient_client.post(URL, {"slot": str(slot.pk)}, HTTP_IDEMPOTENCY_KEY="k" * 300)
        assert response.status_code == 400
        assert not Appointment.objects.exists()


@pytest.mark.django_db
def test_a_window_booked_slot_by_slot_keeps_the_free_list_in_step(patient_client, doctor):
    window = window_published(doctor, start=in_future(days=2).replace(hour=9), hours=2)
    first, second = window.slots.order_by("start")
    book(patient_client, first)
    free = [s["id"] for s in client_for().get("/api/v1/slots/").json()["results"]]
    assert free == [str(second.pk)]
