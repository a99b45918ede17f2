"""Cancellation and reschedule cutoffs: a patient's late move is refused (409 inside_cutoff) or,
where the clinic penalises late moves, made with a late-cancellation penalty; the instants are
shown on every slot and appointment before they bite."""

from datetime import timedelta

import pytest
import time_machine

from appointments.models import Appointment, AppointmentStatusChange, Penalty
from audit.models import AuditLog
from config.settings.base import env_duration
from notifications.models import Notification
from tests.appointments.test_sweeps import confirmed_booking
from tests.conftest import client_for, error_attrs, error_codes
from tests.factories import AdminUserFactory, DoctorFactory, in_future
from tests.schedule import slot_published

URL = "/api/v1/appointments/"
H = timedelta(hours=1)


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def strict_doctor(doctor):
    doctor.cancel_cutoff = 24 * H
    doctor.reschedule_cutoff = 48 * H
    doctor.save()
    return doctor


def cancel(user, appointment):
    return client_for(user).post(f"{URL}{appointment.pk}/cancel/", {"reason": "Cannot come"})


def reschedule(user, appointment, slot):
    return client_for(user).post(f"{URL}{appointment.pk}/reschedule/", {"slot": str(slot.pk)})


def unchanged(appointment) -> bool:
    appointment.refresh_from_db()
    return (
        appointment.status == "confirmed"
        and not AppointmentStatusChange.objects.filter(
            appointment=appointment, to_status__in=["cancelled", "rescheduled"]
        ).exists()
        and not Penalty.objects.exists()
    )


@pytest.mark.django_db
class TestRefused:
    def test_without_cutoffs_a_patient_cancels_until_the_start_as_before(self, patient, doctor):
        appointment = confirmed_booking(patient, doctor, start=in_future(days=3))

        with time_machine.travel(appointment.start - timedelta(minutes=10), tick=False):
            assert cancel(patient.user, appointment).status_code == 200

    def test_a_patients_cancel_inside_the_cutoff_is_a_409_that_changes_nothing(
        self, patient, strict_doctor
    ):
        appointment = confirmed_booking(patient, strict_doctor, start=in_future(days=3))
        notifications = Notification.objects.count()

        with time_machine.travel(appointment.start - 23 * H, tick=False):
            response = cancel(patient.user, appointment)

        assert response.status_code == 409, response.json()
        assert error_codes(response) == ["inside_cutoff"]
        assert iso(appointment.start - 24 * H) in response.json()["errors"][0]["detail"]
        assert unchanged(appointment)
        assert Notification.objects.count() == notifications

    def test_before_the_cutoff_the_cancel_goes_through(self, patient, strict_doctor):
        appointment = confirmed_booking(patient, strict_doctor, start=in_future(days=3))

        with time_machine.travel(appointment.start - 25 * H, tick=False):
            assert cancel(patient.user, appointment).status_code == 200
        assert not Penalty.objects.exists()

    def test_the_reschedule_cutoff_is_its_own(self, patient, strict_doctor):
        appointment = confirmed_booking(patient, strict_doctor, start=in_future(days=4))
        target = slot_published(strict_doctor, start=appointment.start + 24 * H)

        with time_machine.travel(appointment.start - 47 * H, tick=False):
            response = reschedule(patient.user, appointment, target)
            assert response.status_code == 409, response.json()
            assert error_codes(response) == ["inside_cutoff"]
            assert unchanged(appointment)
            assert cancel(patient.user, appointment).status_code == 200

    def test_the_doctor_and_admins_are_exempt(self, patient, strict_doctor):
        first = confirmed_booking(patient, strict_doctor, start=in_future(days=3))
        second = confirmed_booking(patient, strict_doctor, start=in_future(days=3) + 2 * H)
        target = slot_published(strict_doctor, start=in_future(days=5))

        with time_machine.travel(first.start - H, tick=False):
            assert cancel(strict_doctor.user, first).status_code == 200
            assert reschedule(AdminUserFactory(), second, target).status_code == 201
        assert not Penalty.objects.exists()


@pytest.mark.django_db
class TestPenalised:
    @pytest.fixture(autouse=True)
    def penalise(self, settings):
        settings.LATE_CANCELLATION_POLICY = "penalise"

    def test_a_late_cancel_goes_through_with_a_penalty_its_email_and_an_audit_entry(
        self, patient, strict_doctor, mailoutbox, django_capture_on_commit_callbacks
    ):
        appointment = confirmed_booking(patient, strict_doctor, start=in_future(days=3))

        with (
            time_machine.travel(appointment.start - 2 * H, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert cancel(patient.user, appointment).status_code == 200

        penalty = Penalty.objects.get()
        assert (penalty.kind, penalty.appointment_id, penalty.patient_id) == (
            "late_cancellation",
            appointment.pk,
            patient.pk,
        )
        assert penalty.email_sent is True
        assert [m.subject for m in mailoutbox if m.to == [patient.user.email]][-2:] == [
            "Appointment cancelled",
            "Late cancellation",
        ]
        assert AuditLog.objects.filter(target_type="penalty", action="create").count() == 1
        listed = client_for(patient.user).get("/api/v1/penalties/").json()["results"]
        assert [row["kind"] for row in listed] == ["late_cancellation"]

    def test_a_late_reschedule_goes_through_with_a_penalty_on_the_old_appointment(
        self, patient, strict_doctor
    ):
        appointment = confirmed_booking(patient, strict_doctor, start=in_future(days=4))
        target = slot_published(strict_doctor, start=appointment.start + 24 * H)

        with time_machine.travel(appointment.start - 30 * H, tick=False):
            assert reschedule(patient.user, appointment, target).status_code == 201

        assert Penalty.objects.get().appointment_id == appointment.pk

    def test_late_cancellations_count_towards_the_booking_restriction(
        self, settings, patient, strict_doctor
    ):
        settings.NO_SHOW_PENALTY_LIMIT = 1
        appointment = confirmed_booking(patient, strict_doctor, start=in_future(days=3))
        with time_machine.travel(appointment.start - 2 * H, tick=False):
            cancel(patient.user, appointment)

        slot = slot_published(DoctorFactory(), start=in_future(days=5))
        response = client_for(patient.user).post(URL, {"slot": str(slot.pk)})

        assert response.status_code == 403
        assert error_codes(response) == ["booking_restricted"]


@pytest.mark.django_db
class TestShownBeforeItBites:
    def test_slots_and_appointments_carry_cancel_by_and_reschedule_by(
        self, settings, patient, strict_doctor
    ):
        settings.CANCEL_CUTOFF = 6 * H
        settings.RESCHEDULE_CUTOFF = 12 * H
        clinic_default = DoctorFactory()
        start = in_future(days=3).replace(hour=9)
        own = slot_published(strict_doctor, start=start)
        default = slot_published(clinic_default, start=start)

        rows = {
            row["id"]: row
            for row in client_for(patient.user).get("/api/v1/slots/").json()["results"]
        }

        assert (rows[str(own.pk)]["cancel_by"], rows[str(own.pk)]["reschedule_by"]) == (
            iso(start - 24 * H),
            iso(start - 48 * H),
        )
        assert (rows[str(default.pk)]["cancel_by"], rows[str(default.pk)]["reschedule_by"]) == (
            iso(start - 6 * H),
            iso(start - 12 * H),
        )
        booked = client_for(patient.user).post(URL, {"slot": str(own.pk)}).json()
        listed = client_for(patient.user).get(URL).json()["results"][0]
        detail = client_for(patient.user).get(f"{URL}{booked['id']}/").json()
        for shown in (booked, listed, detail):
            assert (shown["cancel_by"], shown["reschedule_by"]) == (
                iso(start - 24 * H),
                iso(start - 48 * H),
            )

    def test_the_booking_message_states_the_policy_in_words(self, settings, patient, strict_doctor):
        settings.CLINIC_TIME_ZONE = "Europe/London"
        confirmed_booking(patient, strict_doctor, start=in_future(days=5))
        appointment = Appointment.objects.get()
        body = patient.user.notifications.get(kind="booked").body

        assert "You can cancel it online until " in body
        assert "after that, a change is not possible online." in body
        assert f"{(appointment.start - 24 * H):%H:%M} (Europe/London time)" in body

    def test_without_cutoffs_the_booking_message_says_nothing_of_them(self, patient, doctor):
        confirmed_booking(patient, doctor, start=in_future(days=5))

        assert "online until" not in patient.user.notifications.get(kind="booked").body


@pytest.mark.django_db
class TestSettingTheCutoffs:
    def test_a_doctor_sets_their_own_and_goes_back_to_the_clinics(self, settings, doctor):
        settings.CANCEL_CUTOFF = 12 * H
        client = client_for(doctor.user)
        url = f"/api/v1/doctors/{doctor.pk}/"

        response = client.patch(
            url, {"cancel_cutoff": "24h", "reschedule_cutoff": "0h"}, format="json"
        )
        assert response.status_code == 200, response.json()
        assert (response.json()["cancel_cutoff"], response.json()["reschedule_cutoff"]) == (
            "24h",
            "0m",
        )
        response = client.patch(url, {"cancel_cutoff": None}, format="json")
        assert response.json()["cancel_cutoff"] == "12h"
        doctor.refresh_from_db()
        assert doctor.cancel_cutoff is None
        assert client_for(None).get(url).json()["cancel_cutoff"] == "12h"

    @pytest.mark.parametrize("value", ["-1h", "24", "a day", 24, ""])
    def test_a_malformed_cutoff_is_a_400_that_changes_nothing(self, doctor, value):
        response = client_for(doctor.user).patch(
            f"/api/v1/doctors/{doctor.pk}/", {"cancel_cutoff": value}, format="json"
        )

        assert response.status_code == 400, response.json()
        assert error_attrs(response) == ["cancel_cutoff"]
        doctor.refresh_from_db()
        assert doctor.cancel_cutoff is None

    def test_another_doctor_may_not_set_them(self, doctor, other_doctor):
        response = client_for(other_doctor.user).patch(
            f"/api/v1/doctors/{doctor.pk}/", {"cancel_cutoff": "1h"}, format="json"
        )
        assert response.status_code == 403

    def test_the_settings_read_hours_and_minutes(self, monkeypatch):
        monkeypatch.setenv("CANCEL_CUTOFF", "1h30m")
        assert env_duration("CANCEL_CUTOFF", timedelta(0)) == 90 * timedelta(minutes=1)
        monkeypatch.setenv("CANCEL_CUTOFF", "0h")
        assert env_duration("CANCEL_CUTOFF", H) == timedelta(0)
