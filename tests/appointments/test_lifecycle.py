from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from appointments.models import Appointment, Penalty
from appointments.services import appointment_book
from appointments.sweeps import no_show_sweep
from scheduling.models import AvailabilityWindow, Slot
from tests.concurrency import run_at_once
from tests.conftest import client_for, error_codes
from tests.factories import AppointmentFactory, DoctorFactory, PatientFactory, in_future
from tests.schedule import slot_published

URL = "/api/v1/appointments/"


def booked(patient, doctor, **kwargs) -> Appointment:
    return appointment_book(
        actor=patient.user, patient=patient, slot_id=slot_published(doctor, **kwargs).pk
    )


def ended_appointment(doctor, patient, status="confirmed", hours_ago=3) -> Appointment:
    start = timezone.now().replace(microsecond=0) - timedelta(hours=hours_ago)
    window = AvailabilityWindow.objects.create(
        doctor=doctor, start=start, end=start + timedelta(hours=1)
    )
    slot = Slot.objects.create(doctor=doctor, window=window, start=window.start, end=window.end)
    return AppointmentFactory.create(doctor=doctor, patient=patient, slot=slot, status=status)


@pytest.mark.django_db
class TestReschedule:
    def test_the_old_appointment_becomes_rescheduled_and_the_new_one_points_back(
        self, patient_client, patient, doctor
    ):
        old = booked(patient, doctor)
        target = slot_published(doctor, start=old.start + timedelta(days=1))
        response = patient_client.post(f"{URL}{old.pk}/reschedule/", {"slot": str(target.pk)})
        assert response.status_code == 201, response.json()
        new = response.json()
        assert new["rescheduled_from"] == str(old.pk)
        assert new["slot"] == str(target.pk)
        assert new["reason"] == old.reason
        old.refresh_from_db()
        assert old.status == "rescheduled"
        assert not Slot.objects.get(pk=old.slot_id).is_booked
        assert Slot.objects.get(pk=target.pk).is_booked

    def test_a_confirmed_appointment_moved_to_another_published_hour_stays_confirmed(
        self, patient_client, patient, doctor, doctor_client
    ):
        """And so the sweep, which cancels pending requests not confirmed by their start,
        leaves it alone: the patient keeps their visit."""
        old = booked(patient, doctor)
        assert doctor_client.post(f"{URL}{old.pk}/confirm/").status_code == 200
        target = slot_published(doctor, start=old.start + timedelta(days=1))
        response = patient_client.post(f"{URL}{old.pk}/reschedule/", {"slot": str(target.pk)})
        assert response.status_code == 201, response.json()
        assert response.json()["status"] == "confirmed"
        new = Appointment.objects.get(pk=response.json()["id"])
        with time_machine.travel(new.start + timedelta(minutes=5), tick=False):
            assert no_show_sweep().cancelled == 0
        new.refresh_from_db()
        assert new.status == "confirmed"

    def test_a_pending_request_moved_stays_pending_for_a_doctor_who_approves(
        self, patient_client, patient, doctor
    ):
        old = booked(patient, doctor)
        target = slot_published(doctor, start=old.start + timedelta(days=1))
        response = patient_client.post(f"{URL}{old.pk}/reschedule/", {"slot": str(target.pk)})
        assert response.json()["status"] == "pending"

    def test_a_slot_that_cannot_be_had_changes_nothing(self, patient_client, patient, doctor):
        old = booked(patient, doctor)
        taken = slot_published(doctor, start=old.start + timedelta(days=1))
        AppointmentFactory(doctor=doctor, slot=taken)
        response = patient_client.post(f"{URL}{old.pk}/reschedule/", {"slot": str(taken.pk)})
        assert response.status_code == 409
        assert error_codes(response) == ["slot_unavailable"]
        old.refresh_from_db()
        assert old.status == "pending"
        assert Slot.objects.get(pk=old.slot_id).is_booked
        assert old.history.count() == 1

    def test_rescheduling_into_an_overlap_with_another_appointment_is_refused(
        self, patient_client, patient, doctor
    ):
        old = booked(patient, doctor)
        other = booked(patient, DoctorFactory(), start=old.start + timedelta(days=2))
        clash = slot_published(DoctorFactory(), start=other.start)
        response = patient_client.post(f"{URL}{old.pk}/reschedule/", {"slot": str(clash.pk)})
        assert response.status_code == 409
        assert error_codes(response) == ["patient_conflict"]
        old.refresh_from_db()
        assert old.status == "pending"

    def test_moving_within_the_same_hour_of_another_doctor_is_allowed(
        self, patient_client, patient, doctor
    ):
        old = booked(patient, doctor)
        same_time = slot_published(DoctorFactory(), start=old.start)
        response = patient_client.post(f"{URL}{old.pk}/reschedule/", {"slot": str(same_time.pk)})
        assert response.status_code == 201


@pytest.mark.django_db
class TestHistoryAndVisibility:
    def test_history_lists_every_move_oldest_first(self, patient, doctor, doctor_client):
        appointment = booked(patient, doctor)
        doctor_client.post(f"{URL}{appointment.pk}/confirm/")
        client_for(patient.user).post(f"{URL}{appointment.pk}/cancel/", {"reason": "Away"})
        response = client_for(patient.user).get(f"{URL}{appointment.pk}/history/")
        assert response.status_code == 200
        rows = response.json()
        assert [(r["from_status"], r["to_status"]) for r in rows] == [
            ("", "pending"),
            ("pending", "confirmed"),
            ("confirmed", "cancelled"),
        ]
        assert rows[1]["actor"] == str(doctor.pk)
        assert rows[2]["note"] == "Away"
        assert not Slot.objects.get(pk=appointment.slot_id).is_booked

    def test_others_see_404(self, patient, doctor, other_patient, other_doctor):
        appointment = booked(patient, doctor)
        for user in (other_patient.user, other_doctor.user):
            client = client_for(user)
            assert client.get(f"{URL}{appointment.pk}/").status_code == 404
            assert client.get(f"{URL}{appointment.pk}/history/").status_code == 404
            assert client.post(f"{URL}{appointment.pk}/cancel/").status_code == 404

    def test_the_list_is_scoped_and_filtered(self, patient, doctor, other_patient, admin_client):
        mine = booked(patient, doctor)
        later = booked(patient, DoctorFactory(), start=mine.start + timedelta(days=3))
        theirs = booked(other_patient, doctor, start=mine.start + timedelta(days=1))
        ids = lambda r: [a["id"] for a in r.json()["results"]]  # noqa: E731
        assert ids(client_for(patient.user).get(URL)) == [str(mine.pk), str(later.pk)]
        assert ids(client_for(doctor.user).get(URL)) == [str(mine.pk), str(theirs.pk)]
        assert len(ids(admin_client.get(URL))) == 3
        assert ids(admin_client.get(URL, {"patient": str(other_patient.pk)})) == [str(theirs.pk)]
        assert ids(admin_client.get(URL, {"doctor": str(doctor.pk), "ordering": "-start"})) == [
            str(theirs.pk),
            str(mine.pk),
        ]
        day = later.start.date()
        assert ids(admin_client.get(URL, {"date_from": day, "date_to": day})) == [str(later.pk)]
        client_for(doctor.user).post(f"{URL}{mine.pk}/confirm/")
        assert ids(admin_client.get(URL, {"status": "confirmed"})) == [str(mine.pk)]
        assert admin_client.get(URL, {"status": "bogus"}).status_code == 400
        assert admin_client.get(URL, {"doctor": "nope"}).status_code == 400

    def test_the_list_costs_the_same_queries_whatever_the_page_size(
        self, admin_client, django_assert_max_num_queries
    ):
        doctor = DoctorFactory()
        for day in range(30):
            booked(PatientFactory(), doctor, start=in_future(days=day + 2).replace(hour=10))
        with django_assert_max_num_queries(4):
            small = admin_client.get(URL, {"page_size": 5})
        with django_assert_max_num_queries(4):
            large = admin_client.get(URL, {"page_size": 100})
        assert len(small.json()["results"]) == 5
        assert len(large.json()["results"]) == 30


@pytest.mark.django_db
class TestCompleteAndRecords:
    def test_clinical_notes_are_encrypted_at_rest_and_shown_to_the_three_parties(
        self, patient, doctor, admin_client
    ):
        appointment = ended_appointment(doctor, patient)
        response = client_for(doctor.user).post(
            f"{URL}{appointment.pk}/complete/",
            {"diagnosis": "Acute sinusitis XJ-4417", "treatment_notes": "Saline rinse QV-9921"},
        )
        assert response.status_code == 200, response.json()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT diagnosis, treatment_notes FROM appointments_appointment WHERE id = %s",
                [appointment.pk],
            )
            raw = b"".join(bytes(column) for column in cursor.fetchone())
        assert b"XJ-4417" not in raw
        assert b"QV-9921" not in raw
        for client in (client_for(patient.user), client_for(doctor.user), admin_client):
            body = client.get(f"{URL}{appointment.pk}/").json()
            assert body["diagnosis"] == "Acute sinusitis XJ-4417"
        listed = client_for(patient.user).get(URL).json()["results"][0]
        assert "diagnosis" not in listed

    def test_the_medical_record_follows_its_access_rules(self, patient, doctor, admin_client):
        record = f"/api/v1/patients/{patient.pk}/medical-record/"
        pending = booked(patient, doctor)
        assert client_for(doctor.user).get(record).status_code == 404
        client_for(doctor.user).post(f"{URL}{pending.pk}/confirm/")
        assert client_for(doctor.user).get(record).status_code == 200
        assert client_for(DoctorFactory().user).get(record).status_code == 404
        assert client_for(PatientFactory().user).get(record).status_code == 404
        assert client_for().get(record).status_code == 401
        assert client_for(patient.user).get(record).status_code == 200
        assert admin_client.get(record).status_code == 200

        update = client_for(doctor.user).patch(record, {"allergies": "Penicillin"})
        assert update.status_code == 200
        assert update.json()["allergies"] == "Penicillin"
        assert client_for(patient.user).patch(record, {"allergies": "None"}).status_code == 403
        patient.refresh_from_db()
        assert patient.allergies == "Penicillin"

        client_for(patient.user).post(f"{URL}{pending.pk}/cancel/")
        assert client_for(doctor.user).get(record).status_code == 404

    def test_encounters_come_from_completed_appointments(self, patient, doctor):
        done = ended_appointment(doctor, patient)
        client_for(doctor.user).post(
            f"{URL}{done.pk}/complete/", {"diagnosis": "Sprain", "treatment_notes": "Ice"}
        )
        ended_appointment(DoctorFactory(), patient, status="no_show")
        body = client_for(patient.user).get(f"/api/v1/patients/{patient.pk}/medical-record/").json()
        assert [(e["appointment"], e["diagnosis"]) for e in body["encounters"]] == [
            (str(done.pk), "Sprain")
        ]


@pytest.mark.django_db
class TestFeedback:
    def test_only_the_patient_of_a_completed_appointment_rates_it_once(self, patient, doctor):
        appointment = ended_appointment(doctor, patient, status="completed")
        url = f"{URL}{appointment.pk}/feedback/"
        assert client_for(doctor.user).post(url, {"rating": 5}).status_code == 403
        assert client_for(patient.user).post(url, {"rating": 6}).status_code == 400
        assert (
            client_for(patient.user).post(url, {"rating": 4, "comments": "Kind"}).status_code == 201
        )
        again = client_for(patient.user).post(url, {"rating": 1})
        assert again.status_code == 409
        assert error_codes(again) == ["duplicate_feedback"]
        doctor.refresh_from_db()
        assert doctor.rating == 4
        public = client_for().get(f"/api/v1/doctors/{doctor.pk}/feedback/").json()["results"]
        assert public == [{"rating": 4, "comments": "Kind", "created_at": public[0]["created_at"]}]

    def test_an_appointment_not_completed_cannot_be_rated(self, patient, doctor):
        appointment = ended_appointment(doctor, patient)
        response = client_for(patient.user).post(f"{URL}{appointment.pk}/feedback/", {"rating": 3})
        assert response.status_code == 409
        assert error_codes(response) == ["invalid_transition"]


@pytest.mark.django_db(transaction=True)
def test_two_patients_rating_one_doctor_at_once_both_count():
    doctor = DoctorFactory()
    for round_number in range(3):
        appointments = [
            ended_appointment(doctor, PatientFactory(), "completed", hours_ago=hours)
            for hours in (3, 5)
        ]

        def rate(appointment, stars):
            client = client_for(appointment.patient.user)
            return lambda: (
                client.post(f"{URL}{appointment.pk}/feedback/", {"rating": stars}).status_code
            )

        assert run_at_once([rate(appointments[0], 5), rate(appointments[1], 2)]) == [201, 201]
        doctor.refresh_from_db()
        assert doctor.rating_count == 2 * (round_number + 1)
        assert float(doctor.rating) == 3.5
        AvailabilityWindow.objects.filter(doctor=doctor).delete()


@pytest.mark.django_db
class TestBlacklistAndPenalties:
    def test_blacklisting_with_cancel_upcoming_cancels_future_active_appointments(
        self, admin_client, patient, doctor
    ):
        upcoming = booked(patient, doctor)
        past = ended_appointment(doctor, PatientFactory())
        response = admin_client.post(
            f"/api/v1/doctors/{doctor.pk}/blacklist/",
            {"reason": "Licence suspended", "cancel_upcoming": True},
        )
        assert response.status_code == 200
        upcoming.refresh_from_db()
        past.refresh_from_db()
        assert upcoming.status == "cancelled"
        assert upcoming.history.last().note.startswith("Cancelled because")
        assert past.status == "confirmed"

    def test_blacklisting_without_cancel_upcoming_keeps_appointments(
        self, admin_client, patient, doctor
    ):
        upcoming = booked(patient, doctor)
        admin_client.post(f"/api/v1/doctors/{doctor.pk}/blacklist/", {"reason": "Review"})
        upcoming.refresh_from_db()
        assert upcoming.status == "pending"

    def test_a_no_show_creates_one_penalty_that_an_admin_resolves(
        self, patient, doctor, admin_client, settings
    ):
        appointment = ended_appointment(doctor, patient)
        response = client_for(doctor.user).post(f"{URL}{appointment.pk}/no-show/")
        assert response.status_code == 200
        penalty = Penalty.objects.get(appointment=appointment)
        mine = client_for(patient.user).get("/api/v1/penalties/").json()["results"]
        assert [p["id"] for p in mine] == [str(penalty.pk)]
        assert client_for(PatientFactory().user).get("/api/v1/penalties/").json()["results"] == []
        assert (
            client_for(patient.user).post(f"/api/v1/penalties/{penalty.pk}/resolve/").status_code
            == 403
        )
        resolved = admin_client.post(f"/api/v1/penalties/{penalty.pk}/resolve/")
        assert resolved.status_code == 200
        assert resolved.json()["resolved"] is True

    def test_too_many_unresolved_penalties_restrict_booking(self, patient, doctor, settings):
        settings.NO_SHOW_PENALTY_LIMIT = 2
        for _ in range(2):
            appointment = ended_appointment(DoctorFactory(), patient, status="no_show")
            Penalty.objects.create(patient=patient, appointment=appointment)
        slot = slot_published(doctor)
        response = client_for(patient.user).post(URL, {"slot": str(slot.pk)})
        assert response.status_code == 403
        assert error_codes(response) == ["booking_restricted"]
        Penalty.objects.filter(patient=patient).update(resolved=True)
        assert client_for(patient.user).post(URL, {"slot": str(slot.pk)}).status_code == 201
