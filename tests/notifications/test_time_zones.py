"""Every time a person reads is in their own zone, named: a patient in New York books a
clinic in London, and each text of the booking's life is checked, in the app and by email."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from accounts.models import User
from appointments.sweeps import reminders_send
from tests.conftest import client_for, error_attrs
from tests.factories import DoctorFactory
from tests.patients.test_patients import register
from tests.schedule import slot_published

URL = "/api/v1/appointments/"
# 14:00 in London on 20 March 2027 (still GMT); New York has been on summer time (UTC-4) since
# 14 March, so it is 10:00 there.
START = datetime(2027, 3, 20, 14, 0, tzinfo=UTC)
NEW_YORK = "Saturday 20 March 2027 at 10:00 (America/New_York time)"
LONDON = "Saturday 20 March 2027 at 14:00 (Europe/London time)"


@pytest.fixture
def london_clinic(settings):
    settings.CLINIC_TIME_ZONE = "Europe/London"
    settings.REMINDER_LEAD_TIMES = [timedelta(hours=48), timedelta(hours=2)]
    return settings


@pytest.fixture
def new_yorker(london_clinic):
    response = register(
        username="nora.nyc", email="nora@example.test", time_zone="America/New_York"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["time_zone"] == "America/New_York"
    return User.objects.get(username="nora.nyc")


def texts_to(user, mailoutbox) -> list[str]:
    """What `user` was told: each in-app body, and each email's body, oldest first."""
    in_app = list(user.notifications.order_by("created_at").values_list("body", flat=True))
    emails = [m.body for m in mailoutbox if m.to == [user.email]]
    assert len(emails) == len(in_app)
    assert all(any(body in email for email in emails) for body in in_app), (in_app, emails)
    return in_app


@pytest.mark.django_db
def test_a_booking_made_in_new_york_for_a_london_clinic_reads_right_to_each(
    new_yorker, mailoutbox, django_capture_on_commit_callbacks
):
    doctor = DoctorFactory(requires_approval=True)
    assert doctor.user.time_zone == "Europe/London"  # the clinic's, by default

    with (
        time_machine.travel(START - timedelta(days=10), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        slot = slot_published(doctor, start=START)
        response = client_for(new_yorker).post(URL, {"slot": str(slot.pk)})
        assert response.status_code == 201, response.json()
        appointment_id = response.json()["id"]
        confirm = client_for(doctor.user).post(f"{URL}{appointment_id}/confirm/")
        assert confirm.status_code == 200
    for before in (timedelta(hours=47), timedelta(hours=1)):
        with (
            time_machine.travel(START - before, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert reminders_send() == 1
    with (
        time_machine.travel(START - timedelta(minutes=30), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client_for(new_yorker).post(
            f"{URL}{appointment_id}/cancel/", {"reason": "Flight"}
        )
        assert response.status_code == 200, response.json()

    patient_texts = texts_to(new_yorker, mailoutbox)
    assert len(patient_texts) == 5  # booked, confirmed, two reminders, cancelled
    assert all(NEW_YORK in text for text in patient_texts), patient_texts
    assert not any("London" in text or "14:00" in text for text in patient_texts)
    doctor_texts = texts_to(doctor.user, mailoutbox)
    assert len(doctor_texts) == 2  # new booking, cancelled
    assert all(LONDON in text for text in doctor_texts), doctor_texts


@pytest.mark.django_db
def test_a_doctor_abroad_reads_in_their_own_zone(london_clinic, patient, mailoutbox):
    doctor = DoctorFactory(requires_approval=False)
    doctor_client = client_for(doctor.user)
    response = doctor_client.patch(
        f"/api/v1/doctors/{doctor.pk}/", {"time_zone": "Asia/Tokyo"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["time_zone"] == "Asia/Tokyo"

    with time_machine.travel(START - timedelta(days=10), tick=False):
        slot = slot_published(doctor, start=START)
        assert client_for(patient.user).post(URL, {"slot": str(slot.pk)}).status_code == 201

    (text,) = doctor.user.notifications.values_list("body", flat=True)
    assert "Saturday 20 March 2027 at 23:00 (Asia/Tokyo time)" in text
    (text,) = patient.user.notifications.values_list("body", flat=True)
    assert LONDON in text


@pytest.mark.django_db
def test_the_zone_is_shown_and_changed_in_the_profile(new_yorker):
    client = client_for(new_yorker)
    assert client.get("/api/v1/auth/me/").json()["time_zone"] == "America/New_York"

    response = client.patch(
        f"/api/v1/patients/{new_yorker.pk}/", {"time_zone": "Europe/Paris"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["time_zone"] == "Europe/Paris"
    new_yorker.refresh_from_db()
    assert new_yorker.time_zone == "Europe/Paris"


@pytest.mark.django_db
def test_registering_without_a_zone_takes_the_clinics(london_clinic):
    london_clinic.CLINIC_TIME_ZONE = "Europe/Dublin"
    response = register()
    assert response.status_code == 201, response.json()
    assert response.json()["time_zone"] == "Europe/Dublin"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "zone",
    ["Mars/Olympus_Mons", "localtime", "../../etc/passwd", "/usr/share/zoneinfo/UTC", "", "x" * 65],
)
def test_what_is_not_an_iana_zone_is_a_400_that_changes_nothing(new_yorker, zone):
    assert register(username="someone.else", time_zone=zone).status_code == 400
    assert not User.objects.filter(username="someone.else").exists()

    response = client_for(new_yorker).patch(
        f"/api/v1/patients/{new_yorker.pk}/", {"time_zone": zone}, format="json"
    )

    assert response.status_code == 400, response.json()
    assert set(error_attrs(response)) == {"time_zone"}
    new_yorker.refresh_from_db()
    assert new_yorker.time_zone == "America/New_York"
