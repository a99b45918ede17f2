"""Reminders at each of the clinic's lead times, as each patient chose them, once each ever;
time moved by time-machine, concurrent sweeps on real threads."""

from datetime import timedelta
from io import StringIO

import environ
import pytest
import time_machine
from django.core.management import call_command
from django.db import IntegrityError, transaction

from appointments.notify import reminder_key
from appointments.services import (
    appointment_book,
    appointment_reschedule,
    appointment_transition,
)
from appointments.sweeps import reminders_send
from appointments.transitions import Action
from config.settings.base import env_lead_times
from notifications.delivery import notifications_relay
from notifications.models import Notification
from tests.appointments.test_sweeps import confirmed_booking, emails_titled
from tests.concurrency import run_at_once
from tests.conftest import client_for, error_attrs, error_codes
from tests.factories import DoctorFactory, PatientFactory, in_future
from tests.schedule import slot_published

H = timedelta(hours=1)
M = timedelta(minutes=1)


def reminder_leads(appointment) -> list[str]:
    """The lead times (`48h`, `2h`) of the appointment's reminders in the outbox."""
    keys = Notification.objects.filter(kind="reminder", appointment_id=appointment.pk)
    return sorted(key.rsplit(":", 1)[1] for key in keys.values_list("dedupe_key", flat=True) if key)


def sweep_at(moment, *, commit=None) -> int:
    with time_machine.travel(moment, tick=False):
        if commit is None:
            return reminders_send()
        with commit(execute=True):
            return reminders_send()


@pytest.fixture
def lead_times(settings):
    settings.REMINDER_LEAD_TIMES = [48 * H, 2 * H]
    return settings


@pytest.mark.django_db
class TestLeadTimes:
    def test_one_reminder_at_each_lead_time_and_no_more(
        self, lead_times, patient, doctor, mailoutbox, django_capture_on_commit_callbacks
    ):
        appointment = confirmed_booking(patient, doctor, start=in_future(days=4).replace(hour=9))
        start, commit = appointment.start, django_capture_on_commit_callbacks

        assert sweep_at(start - 49 * H) == 0
        assert sweep_at(start - 47 * H, commit=commit) == 1
        assert sweep_at(start - 46 * H) == 0
        assert sweep_at(start - 3 * H) == 0
        assert sweep_at(start - H, commit=commit) == 1
        assert sweep_at(start - H + 5 * M) == 0

        assert reminder_leads(appointment) == ["2h", "48h"]
        assert emails_titled(mailoutbox, "Appointment reminder") == [patient.user.email] * 2
        out = StringIO()
        with time_machine.travel(start - 30 * M, tick=False):
            call_command("send_reminders", stdout=out)
        assert "Wrote 0 reminder(s)." in out.getvalue()

    def test_a_lead_time_already_passed_at_booking_is_skipped_not_sent_late(
        self, lead_times, patient, doctor
    ):
        appointment = confirmed_booking(patient, doctor, start=in_future(hours=10))

        assert sweep_at(appointment.start - 9 * H) == 0
        assert sweep_at(appointment.start - 90 * M) == 1
        assert reminder_leads(appointment) == ["2h"]

    def test_after_a_pause_of_the_sweeps_only_the_nearest_lead_time_is_sent(
        self, lead_times, patient, doctor
    ):
        appointment = confirmed_booking(patient, doctor, start=in_future(days=4))

        # Nothing ran between 48 hours and one hour before: the patient hears once.
        assert sweep_at(appointment.start - H) == 1
        assert sweep_at(appointment.start - 30 * M) == 0
        assert reminder_leads(appointment) == ["2h"]

    def test_three_lead_times_from_the_setting(self, settings, patient, doctor):
        settings.REMINDER_LEAD_TIMES = [48 * H, 2 * H, 30 * M]
        appointment = confirmed_booking(patient, doctor, start=in_future(days=4))

        for before in (47 * H, 90 * M, 20 * M):
            assert sweep_at(appointment.start - before) == 1
        assert reminder_leads(appointment) == ["2h", "30m", "48h"]

    def test_the_database_refuses_a_second_reminder_of_one_lead_time(
        self, lead_times, patient, doctor
    ):
        appointment = confirmed_booking(patient, doctor, start=in_future(days=4))
        sweep_at(appointment.start - 47 * H)
        reminder = Notification.objects.get(kind="reminder")
        assert reminder.dedupe_key == reminder_key(appointment.pk, 48 * H)

        with pytest.raises(IntegrityError), transaction.atomic():
            Notification.objects.create(
                recipient=patient.user,
                kind="reminder",
                appointment_id=appointment.pk,
                title="Appointment reminder",
                body="again",
                dedupe_key=reminder_key(appointment.pk, 2880 * M),
            )


@pytest.mark.django_db
class TestPatientsChoice:
    def test_a_patient_who_wants_only_the_short_reminder_gets_only_that(
        self, lead_times, patient, doctor
    ):
        patient.reminder_lead_times = [2 * H]
        patient.save()
        appointment = confirmed_booking(patient, doctor, start=in_future(days=4))

        assert sweep_at(appointment.start - 47 * H) == 0
        assert sweep_at(appointment.start - H) == 1
        assert reminder_leads(appointment) == ["2h"]

    def test_a_patient_who_turned_reminders_off_gets_none(self, lead_times, patient, doctor):
        patient.reminder_lead_times = []
        patient.save()
        appointment = confirmed_booking(patient, doctor, start=in_future(days=4))

        assert sweep_at(appointment.start - 47 * H) == 0
        assert sweep_at(appointment.start - H) == 0
        assert reminder_leads(appointment) == []

    def test_a_lead_time_the_clinic_stopped_offering_is_not_sent(self, settings, patient, doctor):
        settings.REMINDER_LEAD_TIMES = [48 * H, 2 * H]
        patient.reminder_lead_times = [48 * H]
        patient.save()
        appointment = confirmed_booking(patient, doctor, start=in_future(days=4))
        settings.REMINDER_LEAD_TIMES = [24 * H, 2 * H]

        assert sweep_at(appointment.start - 47 * H) == 0
        assert sweep_at(appointment.start - H) == 0


@pytest.mark.django_db
class TestMovesAndCancellations:
    def test_a_cancelled_appointment_loses_its_unsent_reminder_and_gets_no_more(
        self, lead_times, patient, doctor
    ):
        appointment = confirmed_booking(patient, doctor, start=in_future(days=4))
        # Written, its email waiting for the relay (the commit callbacks do not run here).
        assert sweep_at(appointment.start - 47 * H) == 1

        appointment_transition(
            appointment_id=appointment.pk, action=Action.CANCEL, actor=patient.user
        )

        assert reminder_leads(appointment) == []
        assert sweep_at(appointment.start - H) == 0

    def test_a_sent_reminder_stays_on_record_after_a_cancellation(
        self, lead_times, patient, doctor, django_capture_on_commit_callbacks
    ):
        appointment = confirmed_booking(patient, doctor, start=in_future(days=4))
        sweep_at(appointment.start - 47 * H, commit=django_capture_on_commit_callbacks)

        appointment_transition(
            appointment_id=appointment.pk, action=Action.CANCEL, actor=patient.user
        )

        assert Notification.objects.get(kind="reminder").email_status == "sent"

    def test_a_reschedule_moves_the_pending_reminders_with_the_appointment(
        self, lead_times, patient, doctor, mailoutbox, django_capture_on_commit_callbacks
    ):
        start = in_future(days=4).replace(hour=9)
        moved = confirmed_booking(patient, doctor, start=start)
        assert sweep_at(start - 47 * H) == 1  # its email waits: the broker is down

        with time_machine.travel(start - 46 * H, tick=False):
            new = appointment_reschedule(
                appointment_id=moved.pk,
                actor=patient.user,
                slot_id=slot_published(doctor, start=start + 72 * H).pk,
            )
            with django_capture_on_commit_callbacks(execute=True):
                notifications_relay()

        assert reminder_leads(moved) == []
        assert emails_titled(mailoutbox, "Appointment reminder") == []
        commit = django_capture_on_commit_callbacks
        assert sweep_at(new.start - 47 * H, commit=commit) == 1
        assert sweep_at(new.start - H, commit=commit) == 1
        assert reminder_leads(new) == ["2h", "48h"]
        assert emails_titled(mailoutbox, "Appointment reminder") == [patient.user.email] * 2

    def test_a_pending_appointment_is_reminded_once_confirmed(self, lead_times, patient):
        doctor = DoctorFactory(requires_approval=True)
        appointment = appointment_book(
            actor=patient.user,
            patient=patient,
            slot_id=slot_published(doctor, start=in_future(days=4)).pk,
        )
        assert sweep_at(appointment.start - 47 * H) == 0

        appointment_transition(
            appointment_id=appointment.pk, action=Action.CONFIRM, actor=doctor.user
        )

        assert sweep_at(appointment.start - 47 * H) == 1


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_write_one_reminder_per_appointment_and_lead_time(settings):
    settings.REMINDER_LEAD_TIMES = [48 * H, 2 * H]
    doctor = DoctorFactory(requires_approval=False)
    start = in_future(days=4).replace(hour=9)
    appointments = [
        confirmed_booking(PatientFactory(), doctor, start=start + n * H) for n in range(6)
    ]

    # 41 hours before the first: all six are due their 48h reminder; 90 minutes before it,
    # only the first its 2h one.
    for before, due in ((41 * H, 6), (90 * M, 1)):
        with time_machine.travel(start - before, tick=False):
            written = run_at_once([reminders_send, reminders_send, reminders_send])
        assert sum(written) == due

    assert [reminder_leads(a) for a in appointments] == [["2h", "48h"]] + [["48h"]] * 5


class TestSetting:
    def test_the_list_is_read_longest_first(self, monkeypatch):
        monkeypatch.setenv("REMINDER_LEAD_TIMES", "2h, 48h,30m")
        assert env_lead_times("REMINDER_LEAD_TIMES", single="REMINDER_BEFORE", default=[H]) == [
            48 * H,
            2 * H,
            30 * M,
        ]

    def test_a_deployment_that_set_only_reminder_before_keeps_its_one_lead_time(self, monkeypatch):
        monkeypatch.delenv("REMINDER_LEAD_TIMES", raising=False)
        monkeypatch.setenv("REMINDER_BEFORE", "PT24H")
        assert env_lead_times("REMINDER_LEAD_TIMES", single="REMINDER_BEFORE", default=[H]) == [
            24 * H
        ]

    def test_without_either_the_default_holds(self, monkeypatch):
        monkeypatch.delenv("REMINDER_LEAD_TIMES", raising=False)
        monkeypatch.delenv("REMINDER_BEFORE", raising=False)
        assert env_lead_times(
            "REMINDER_LEAD_TIMES", single="REMINDER_BEFORE", default=[48 * H, 2 * H]
        ) == [48 * H, 2 * H]

    @pytest.mark.parametrize("raw", ["2 hours", ",", "0m", "-2h", "2d", "48h;2h"])
    def test_a_malformed_list_stops_the_start(self, monkeypatch, raw):
        monkeypatch.setenv("REMINDER_LEAD_TIMES", raw)
        with pytest.raises(environ.ImproperlyConfigured, match="REMINDER_LEAD_TIMES"):
            env_lead_times("REMINDER_LEAD_TIMES", single="X", default=[H])


@pytest.mark.django_db
class TestChoosingOverTheApi:
    def test_the_patient_picks_a_subset_and_sees_it(self, lead_times, patient):
        client = client_for(patient.user)
        url = f"/api/v1/patients/{patient.pk}/"

        assert client.get(url).json()["reminder_lead_times"] == ["48h", "2h"]
        response = client.patch(url, {"reminder_lead_times": ["120m"]}, format="json")
        assert response.status_code == 200, response.json()
        assert response.json()["reminder_lead_times"] == ["2h"]
        patient.refresh_from_db()
        assert patient.reminder_lead_times == [2 * H]

        assert (
            client.patch(url, {"reminder_lead_times": []}, format="json").json()[
                "reminder_lead_times"
            ]
            == []
        )
        assert client.patch(url, {"reminder_lead_times": None}, format="json").json()[
            "reminder_lead_times"
        ] == ["48h", "2h"]

    @pytest.mark.parametrize("value", [["3h"], ["2 hours"], ["48h", 2], "48h", [""], ["48h"] * 11])
    def test_a_lead_time_the_clinic_does_not_offer_is_a_400_that_changes_nothing(
        self, lead_times, patient, value
    ):
        client = client_for(patient.user)
        url = f"/api/v1/patients/{patient.pk}/"

        response = client.patch(url, {"reminder_lead_times": value}, format="json")

        assert response.status_code == 400, response.json()
        assert error_codes(response)
        assert {attr.split(".")[0] for attr in error_attrs(response)} == {"reminder_lead_times"}
        patient.refresh_from_db()
        assert patient.reminder_lead_times is None

    def test_the_400_names_the_lead_times_offered(self, lead_times, patient):
        response = client_for(patient.user).patch(
            f"/api/v1/patients/{patient.pk}/", {"reminder_lead_times": ["3h"]}, format="json"
        )

        assert "48h, 2h" in response.json()["errors"][0]["detail"]

    def test_a_doctor_does_not_see_a_patients_reminder_choice(self, patient, doctor):
        confirmed_booking(patient, doctor)
        response = client_for(doctor.user).get(f"/api/v1/patients/{patient.pk}/")

        assert response.status_code == 200
        assert "reminder_lead_times" not in response.json()
