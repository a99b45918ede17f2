"""Who is told what, written with the change that causes it, and the in-app inbox."""

from datetime import timedelta

import pytest

from appointments.services import appointment_book
from notifications.models import Notification
from tests.appointments.timeline import appointment_at
from tests.conftest import client_for
from tests.factories import AppointmentFactory
from tests.schedule import slot_published

URL = "/api/v1/appointments/"
INBOX = "/api/v1/notifications/"


def told(user) -> list[tuple[str, str]]:
    """(kind, title) of every notification of `user`, oldest first."""
    rows = Notification.objects.filter(recipient=user).order_by("created_at", "pk")
    return [(n.kind, n.title) for n in rows]


@pytest.mark.django_db
class TestWhoIsTold:
    def test_a_booking_confirmed_then_cancelled_tells_the_patient_each_time(self, patient, doctor):
        slot = slot_published(doctor)
        response = client_for(patient.user).post(URL, {"slot": str(slot.pk)})
        appointment_id = response.json()["id"]
        client_for(doctor.user).post(f"{URL}{appointment_id}/confirm/")
        client_for(patient.user).post(f"{URL}{appointment_id}/cancel/", {"reason": "Away"})

        assert told(patient.user) == [
            ("booked", "Appointment requested"),
            ("status_changed", "Appointment confirmed"),
            ("cancelled", "Appointment cancelled"),
        ]
        assert told(doctor.user) == [
            ("booked", "New booking"),
            ("cancelled", "Appointment cancelled"),
        ]
        assert {str(n.appointment_id) for n in Notification.objects.all()} == {appointment_id}

    def test_a_rejection_tells_the_patient_only(self, patient, doctor):
        appointment = appointment_book(
            actor=patient.user, patient=patient, slot_id=slot_published(doctor).pk
        )
        client_for(doctor.user).post(f"{URL}{appointment.pk}/reject/", {"reason": "Full"})

        assert told(patient.user)[-1] == ("status_changed", "Appointment request declined")
        assert told(doctor.user) == [("booked", "New booking")]

    def test_a_reschedule_tells_both_of_the_move_and_of_the_new_booking(self, patient, doctor):
        old = appointment_book(
            actor=patient.user, patient=patient, slot_id=slot_published(doctor).pk
        )
        target = slot_published(doctor, start=old.start + timedelta(days=1))
        client_for(patient.user).post(f"{URL}{old.pk}/reschedule/", {"slot": str(target.pk)})

        assert told(patient.user)[1:] == [
            ("rescheduled", "Appointment moved"),
            ("booked", "Appointment requested"),
        ]
        assert told(doctor.user)[1:] == [
            ("rescheduled", "Appointment moved"),
            ("booked", "New booking"),
        ]

    def test_completion_and_no_show_tell_the_patient_not_the_doctor(self, patient, doctor):
        done = appointment_at(doctor, patient, hours=-3)
        missed = appointment_at(doctor, patient, hours=-6)
        client_for(doctor.user).post(
            f"{URL}{done.pk}/complete/", {"diagnosis": "x", "treatment_notes": "y"}
        )
        client_for(doctor.user).post(f"{URL}{missed.pk}/no-show/")

        assert told(patient.user) == [
            ("status_changed", "Appointment completed"),
            ("no_show", "Missed appointment"),
        ]
        assert told(doctor.user) == []

    def test_a_blacklisting_that_cancels_upcoming_appointments_tells_their_patients(
        self, patient, doctor, admin_client
    ):
        appointment_book(actor=patient.user, patient=patient, slot_id=slot_published(doctor).pk)

        admin_client.post(
            f"/api/v1/doctors/{doctor.pk}/blacklist/",
            {"reason": "Licence under review", "cancel_upcoming": True},
        )

        assert told(patient.user)[-1] == ("cancelled", "Appointment cancelled")
        assert not Notification.objects.filter(body__contains="Licence").exists()

    def test_a_change_that_fails_leaves_no_notification(self, patient, doctor):
        old = appointment_book(
            actor=patient.user, patient=patient, slot_id=slot_published(doctor).pk
        )
        taken = slot_published(doctor, start=old.start + timedelta(days=1))
        AppointmentFactory(doctor=doctor, slot=taken)
        before = Notification.objects.count()

        response = client_for(patient.user).post(
            f"{URL}{old.pk}/reschedule/", {"slot": str(taken.pk)}
        )

        assert response.status_code == 409
        assert Notification.objects.count() == before

    def test_no_health_information_reaches_a_notification_or_an_email(
        self, patient, doctor, mailoutbox, django_capture_on_commit_callbacks
    ):
        slot = slot_published(doctor)
        with django_capture_on_commit_callbacks(execute=True):
            booked = client_for(patient.user).post(
                URL, {"slot": str(slot.pk), "reason": "Chest pain QX-5518"}
            )
        ended = appointment_at(doctor, patient, hours=-3)
        with django_capture_on_commit_callbacks(execute=True):
            client_for(doctor.user).post(
                f"{URL}{booked.json()['id']}/reject/", {"reason": "Cardiology case RV-2231"}
            )
            client_for(doctor.user).post(
                f"{URL}{ended.pk}/complete/",
                {"diagnosis": "Angina ZK-7710", "treatment_notes": "Nitrates WT-3304"},
            )

        texts = [n.title + n.body for n in Notification.objects.all()]
        texts += [m.subject + m.body for m in mailoutbox]
        assert len(mailoutbox) == 4  # booked (patient, doctor), rejected, completed
        for marker in ("QX-5518", "RV-2231", "ZK-7710", "WT-3304", patient.insurance_provider):
            assert not any(marker in text for text in texts), marker


@pytest.mark.django_db
class TestInbox:
    def test_each_user_lists_their_own_newest_first(self, patient, doctor, other_patient):
        first = appointment_book(
            actor=patient.user, patient=patient, slot_id=slot_published(doctor).pk
        )
        client_for(doctor.user).post(f"{URL}{first.pk}/confirm/")

        body = client_for(patient.user).get(INBOX).json()
        assert body["count"] == 2
        newest = body["results"][0]
        assert set(newest) == {
            "id",
            "kind",
            "appointment",
            "title",
            "body",
            "created_at",
            "read_at",
        }
        assert (newest["kind"], newest["appointment"], newest["read_at"]) == (
            "status_changed",
            str(first.pk),
            None,
        )
        assert body["results"][1]["kind"] == "booked"
        assert client_for(other_patient.user).get(INBOX).json()["count"] == 0
        assert client_for().get(INBOX).status_code == 401

    def test_the_owner_marks_one_read_once_and_nobody_else_can_see_it(
        self, patient, doctor, other_patient, admin_client
    ):
        appointment_book(actor=patient.user, patient=patient, slot_id=slot_published(doctor).pk)
        notification = Notification.objects.get(recipient=patient.user)
        url = f"{INBOX}{notification.pk}/read/"

        for stranger in (client_for(other_patient.user), client_for(doctor.user), admin_client):
            assert stranger.post(url).status_code == 404
        first = client_for(patient.user).post(url)
        again = client_for(patient.user).post(url)

        assert first.status_code == 200
        assert first.json()["read_at"] is not None
        assert again.json()["read_at"] == first.json()["read_at"]
        unread = client_for(patient.user).get(INBOX, {"unread": "true"}).json()
        assert unread["count"] == 0

    def test_the_list_is_paginated(self, patient):
        for number in range(3):
            Notification.objects.create(
                recipient=patient.user, kind="reminder", title=f"Reminder {number}", body="-"
            )
        page = client_for(patient.user).get(INBOX, {"page_size": 2}).json()
        assert page["count"] == 3
        assert [n["title"] for n in page["results"]] == ["Reminder 2", "Reminder 1"]
        assert page["next"] is not None
