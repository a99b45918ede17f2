"""The NO_SHOW sweep, with time moved by time-machine (the reminders: test_reminders.py)."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from appointments.models import Appointment, Penalty
from appointments.services import (
    appointment_book,
    doctor_blacklist_with_cancellations,
)
from appointments.sweeps import SweepResult, no_show_sweep
from notifications.models import Notification
from scheduling.models import Slot
from tests.appointments.timeline import appointment_at
from tests.concurrency import run_at_once
from tests.conftest import client_for, error_codes
from tests.factories import DoctorFactory, PatientFactory
from tests.schedule import slot_published


def confirmed_booking(patient, doctor, **kwargs) -> Appointment:
    """A booking through the service, confirmed at once (the doctor needs no approval)."""
    doctor.requires_approval = False
    doctor.save(update_fields=["requires_approval"])
    slot = slot_published(doctor, **kwargs)
    return appointment_book(actor=patient.user, patient=patient, slot_id=slot.pk)


def emails_titled(mailoutbox, title: str) -> list[str]:
    return [m.to[0] for m in mailoutbox if m.subject == title]


@pytest.mark.django_db
class TestNoShowSweep:
    def test_a_confirmed_appointment_becomes_a_no_show_once_the_grace_has_passed(
        self, patient, doctor, settings, mailoutbox, django_capture_on_commit_callbacks
    ):
        settings.NO_SHOW_GRACE = timedelta(minutes=15)
        appointment = confirmed_booking(patient, doctor)

        with time_machine.travel(appointment.end + timedelta(minutes=14), tick=False):
            assert no_show_sweep().no_shows == 0
        appointment.refresh_from_db()
        assert appointment.status == "confirmed"

        later = appointment.end + timedelta(minutes=16)
        with (
            time_machine.travel(later, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            result = no_show_sweep()
            again = no_show_sweep()

        assert (result.no_shows, again.no_shows) == (1, 0)
        appointment.refresh_from_db()
        assert appointment.status == "no_show"
        change = appointment.history.order_by("at", "id").last()
        assert (change.from_status, change.to_status, change.actor) == (
            "confirmed",
            "no_show",
            None,
        )
        penalty = Penalty.objects.get(appointment=appointment)
        assert penalty.email_sent is True
        assert emails_titled(mailoutbox, "Missed appointment") == [patient.user.email]

    def test_a_pending_appointment_not_confirmed_by_its_start_is_cancelled(
        self, patient, doctor, django_capture_on_commit_callbacks
    ):
        appointment = appointment_book(
            actor=patient.user, patient=patient, slot_id=slot_published(doctor).pk
        )
        with time_machine.travel(appointment.start - timedelta(seconds=1), tick=False):
            assert no_show_sweep().cancelled == 0
        with time_machine.travel(appointment.start, tick=False):
            assert no_show_sweep().cancelled == 1

        appointment.refresh_from_db()
        assert appointment.status == "cancelled"
        change = appointment.history.order_by("at", "id").last()
        assert (change.actor, change.note) == (None, "not confirmed in time")
        assert not Slot.objects.get(pk=appointment.slot_id).is_booked
        assert Notification.objects.filter(appointment_id=appointment.pk, kind="cancelled").count()
        assert not Penalty.objects.exists()

    def test_other_appointments_are_left_alone(self, patient, doctor):
        upcoming = confirmed_booking(patient, doctor)
        completed = appointment_at(doctor, patient, hours=-5, status="completed")
        cancelled = appointment_at(doctor, patient, hours=-8, status="cancelled")

        assert no_show_sweep() == SweepResult(no_shows=0, cancelled=0)
        for appointment, status in (
            (upcoming, "confirmed"),
            (completed, "completed"),
            (cancelled, "cancelled"),
        ):
            appointment.refresh_from_db()
            assert appointment.status == status

    def test_the_command_runs_the_same_sweep(self, patient, doctor):
        missed = appointment_at(doctor, patient, hours=-3)
        expired = appointment_at(DoctorFactory(), PatientFactory(), hours=-1, status="pending")
        output = StringIO()

        call_command("sweep_no_shows", stdout=output)

        assert "Marked 1 no-show(s); cancelled 1 appointment(s)" in output.getvalue()
        assert Appointment.objects.get(pk=missed.pk).status == "no_show"
        assert Appointment.objects.get(pk=expired.pk).status == "cancelled"


@pytest.mark.django_db
class TestSweepAfterTheEnd:
    def test_a_pending_appointment_is_cancelled_even_when_the_sweep_comes_after_its_end(
        self, patient, doctor
    ):
        appointment = appointment_book(
            actor=patient.user, patient=patient, slot_id=slot_published(doctor).pk
        )
        with time_machine.travel(appointment.end + timedelta(hours=2), tick=False):
            assert no_show_sweep() == SweepResult(no_shows=0, cancelled=1)
        appointment.refresh_from_db()
        assert appointment.status == "cancelled"
        assert appointment.history.order_by("at", "id").last().note == "not confirmed in time"


@pytest.mark.django_db
class TestBlacklistedDoctorsPatients:
    """Blacklisting without `cancel_upcoming` keeps the doctor's appointments; once one has
    ended, the sweep never marks it a no-show if the doctor was blacklisted before it ended:
    it cancels it, "the doctor was not available", and nobody is penalised."""

    def _blacklist(self, doctor, admin_user, at):
        with time_machine.travel(at, tick=False):
            doctor_blacklist_with_cancellations(
                doctor=doctor, reason="Licence suspended", cancel_upcoming=False, actor=admin_user
            )

    @pytest.mark.parametrize(
        "blacklisted", [timedelta(days=-1), timedelta(minutes=30)], ids=["before", "during"]
    )
    def test_the_sweep_never_penalises_them(
        self,
        blacklisted,
        patient,
        doctor,
        admin_user,
        mailoutbox,
        django_capture_on_commit_callbacks,
    ):
        appointment = confirmed_booking(patient, doctor)
        self._blacklist(doctor, admin_user, at=appointment.start + blacklisted)
        appointment.refresh_from_db()
        assert appointment.status == "confirmed"  # kept, as asked

        with (
            time_machine.travel(appointment.end + timedelta(hours=1), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert no_show_sweep() == SweepResult(no_shows=0, cancelled=1)
            assert no_show_sweep() == SweepResult(no_shows=0, cancelled=0)

        appointment.refresh_from_db()
        assert appointment.status == "cancelled"
        change = appointment.history.order_by("at", "id").last()
        assert (change.actor, change.note) == (None, "the doctor was not available")
        assert not Penalty.objects.exists()
        assert emails_titled(mailoutbox, "Missed appointment") == []
        told = Notification.objects.get(recipient=patient.user, kind="cancelled")
        assert "because the doctor was not available" in told.body

    def test_nor_does_an_admin(self, patient, doctor, admin_user):
        appointment = confirmed_booking(patient, doctor)
        self._blacklist(doctor, admin_user, at=appointment.start - timedelta(hours=1))
        with time_machine.travel(appointment.end + timedelta(minutes=5), tick=False):
            response = client_for(admin_user).post(
                f"/api/v1/appointments/{appointment.pk}/no-show/"
            )
        assert response.status_code == 409
        assert error_codes(response) == ["invalid_transition"]
        assert not Penalty.objects.exists()

    def test_a_visit_missed_before_the_blacklisting_is_still_a_no_show(
        self, patient, doctor, admin_user
    ):
        appointment = confirmed_booking(patient, doctor)
        self._blacklist(doctor, admin_user, at=appointment.end + timedelta(minutes=5))
        with time_machine.travel(appointment.end + timedelta(hours=1), tick=False):
            assert no_show_sweep() == SweepResult(no_shows=1, cancelled=0)
        assert Penalty.objects.filter(appointment=appointment).exists()


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_the_same_moment_make_one_penalty_and_one_email_each(mailoutbox):
    for round_number in range(2):
        doctor = DoctorFactory()
        missed = [appointment_at(doctor, PatientFactory(), hours=-3 - 2 * n) for n in range(4)]
        expired = appointment_at(doctor, PatientFactory(), hours=-1, status="pending")
        mailoutbox.clear()

        results = run_at_once([no_show_sweep, no_show_sweep])

        assert sum(r.no_shows for r in results) == 4
        assert sum(r.cancelled for r in results) == 1
        for appointment in missed:
            assert Penalty.objects.filter(appointment=appointment).count() == 1
            assert appointment.history.filter(to_status="no_show").count() == 1
        assert sorted(emails_titled(mailoutbox, "Missed appointment")) == sorted(
            a.patient.user.email for a in missed
        )
        assert expired.history.filter(to_status="cancelled").count() == 1
        assert Penalty.objects.filter(email_sent=True).count() == 4 * (round_number + 1)
