"""Calendar feeds: made, read by a calendar application without signing in, revoked. Each
feed is parsed by vobject, an iCalendar parser independent of the `icalendar` package that
writes it."""

from datetime import UTC, timedelta

import pytest
import time_machine
import vobject  # type: ignore[import-untyped]  # no stubs installed; the tests only parse with it
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.models import Appointment
from appointments.services import appointment_book, appointment_reschedule, appointment_transition
from appointments.transitions import Action
from audit.models import AuditLog
from calendars.models import CalendarFeed
from calendars.services import calendar_token_hash
from tests.conftest import client_for, error_codes
from tests.factories import in_future
from tests.schedule import slot_published

pytestmark = pytest.mark.django_db

SECRET_REASON = "Recurring chest pain after the new medication"


def _feed_url(client) -> str:
    response = client.post("/api/v1/calendar-feeds/")
    assert response.status_code == 201, response.content
    return response.json()["url"]


def _read(url: str):
    """The feed at `url` as an anonymous calendar application reads it, parsed."""
    response = client_for().get(url, HTTP_ACCEPT="text/calendar")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    text = response.content.decode()
    return vobject.readOne(text), text


def _events(calendar) -> dict:
    return {event.uid.value: event for event in getattr(calendar, "vevent_list", [])}


def _book(patient, doctor, **delta):
    slot = slot_published(doctor, start=in_future(**delta))
    return appointment_book(
        actor=patient.user, patient=patient, slot_id=slot.pk, reason=SECRET_REASON
    )


def test_a_patient_reads_their_appointments_without_clinical_text(patient, doctor):
    patient.user.time_zone = "America/New_York"
    patient.user.save(update_fields=["time_zone"])
    appointment = _book(patient, doctor, days=3)
    url = _feed_url(client_for(patient.user))

    calendar, text = _read(url)

    assert calendar.x_wr_timezone.value == "America/New_York"
    assert calendar.version.value == "2.0"
    (event,) = _events(calendar).values()
    assert event.uid.value == f"{appointment.pk}@careslot"
    assert event.dtstart.value == appointment.start
    assert event.dtstart.value.tzinfo == UTC or event.dtstart.value.utcoffset() == timedelta(0)
    assert f"DTSTART:{appointment.start.astimezone(UTC):%Y%m%dT%H%M%S}Z" in text
    assert event.dtend.value == appointment.end
    assert event.status.value == "TENTATIVE"
    assert event.sequence.value == "0"
    assert doctor.user.last_name in event.summary.value
    assert SECRET_REASON not in text
    assert "DESCRIPTION" not in text


def test_each_change_bumps_the_sequence_under_the_same_uid(patient, doctor):
    appointment = _book(patient, doctor, days=3)
    url = _feed_url(client_for(patient.user))
    uid = f"{appointment.pk}@careslot"

    appointment_transition(appointment_id=appointment.pk, action=Action.CONFIRM, actor=doctor.user)
    confirmed = _events(_read(url)[0])[uid]
    appointment_transition(appointment_id=appointment.pk, action=Action.CANCEL, actor=patient.user)
    cancelled = _events(_read(url)[0])[uid]

    assert (confirmed.status.value, confirmed.sequence.value) == ("CONFIRMED", "1")
    assert (cancelled.status.value, cancelled.sequence.value) == ("CANCELLED", "2")


def test_a_rescheduled_visit_is_cancelled_and_its_new_one_listed(patient, doctor):
    old = _book(patient, doctor, days=3)
    new_slot = slot_published(doctor, start=in_future(days=4))
    url = _feed_url(client_for(patient.user))

    new = appointment_reschedule(appointment_id=old.pk, actor=patient.user, slot_id=new_slot.pk)

    events = _events(_read(url)[0])
    assert events[f"{old.pk}@careslot"].status.value == "CANCELLED"
    assert events[f"{new.pk}@careslot"].status.value == "TENTATIVE"


def test_cancelled_ones_leave_the_feed_after_a_while(patient, doctor, settings):
    settings.CALENDAR_FEED_RECENT = timedelta(days=2)
    kept = _book(patient, doctor, days=5)
    called_off = _book(patient, doctor, days=6)
    appointment_transition(appointment_id=called_off.pk, action=Action.CANCEL, actor=patient.user)
    url = _feed_url(client_for(patient.user))

    assert set(_events(_read(url)[0])) == {f"{kept.pk}@careslot", f"{called_off.pk}@careslot"}
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        assert set(_events(_read(url)[0])) == {f"{kept.pk}@careslot"}


def test_a_doctors_feed_names_the_patient_and_no_one_elses_appointments(
    patient, other_patient, doctor, other_doctor
):
    mine = _book(patient, doctor, days=3)
    _book(other_patient, other_doctor, days=3)
    url = _feed_url(client_for(doctor.user))

    calendar, text = _read(url)

    (event,) = _events(calendar).values()
    assert event.uid.value == f"{mine.pk}@careslot"
    assert patient.user.last_name in event.summary.value
    assert SECRET_REASON not in text


def test_the_token_is_stored_hashed_and_shown_once(patient_client, patient):
    url = _feed_url(patient_client)
    token = url.rsplit("/", 1)[1].removesuffix(".ics")

    feed = CalendarFeed.objects.get(owner=patient.user)
    assert feed.token_hash == calendar_token_hash(token) != token
    listed = patient_client.get("/api/v1/calendar-feeds/").json()["results"]
    assert [row["id"] for row in listed] == [str(feed.pk)]
    assert token not in str(listed)
    assert AuditLog.objects.filter(action="create", target_type="calendarfeed").count() == 1


def test_reading_a_feed_writes_nothing(patient, doctor):
    _book(patient, doctor, days=3)
    url = _feed_url(client_for(patient.user))
    audit_before = AuditLog.objects.count()

    with CaptureQueriesContext(connection) as queries:
        _read(url)

    statements = [q["sql"].lstrip().split()[0].upper() for q in queries.captured_queries]
    assert set(statements) == {"SELECT"}, statements
    assert AuditLog.objects.count() == audit_before


def test_revoked_and_unknown_tokens_are_404(patient_client, patient):
    url = _feed_url(patient_client)
    feed = CalendarFeed.objects.get(owner=patient.user)

    response = patient_client.delete(f"/api/v1/calendar-feeds/{feed.pk}/")

    assert response.status_code == 204
    gone = client_for().get(url)
    assert gone.status_code == 404
    assert error_codes(gone) == ["not_found"]
    assert client_for().get("/api/v1/ics/not-a-real-token.ics").status_code == 404
    assert patient_client.delete(f"/api/v1/calendar-feeds/{feed.pk}/").status_code == 404
    assert AuditLog.objects.filter(action="revoke", target_type="calendarfeed").count() == 1


def test_a_deactivated_owners_feed_is_404(patient):
    url = _feed_url(client_for(patient.user))
    patient.user.is_active = False
    patient.user.save(update_fields=["is_active"])

    assert client_for().get(url).status_code == 404


def test_only_doctors_and_patients_make_feeds_and_each_sees_their_own(
    admin_client, patient, other_patient
):
    assert admin_client.post("/api/v1/calendar-feeds/").status_code == 403
    _feed_url(client_for(patient.user))
    other = client_for(other_patient.user)
    feed = CalendarFeed.objects.get(owner=patient.user)

    assert other.get("/api/v1/calendar-feeds/").json()["count"] == 0
    assert other.delete(f"/api/v1/calendar-feeds/{feed.pk}/").status_code == 404
    assert admin_client.get("/api/v1/calendar-feeds/").json()["count"] == 1
    assert admin_client.delete(f"/api/v1/calendar-feeds/{feed.pk}/").status_code == 204


def test_an_imported_appointment_without_history_reads_sequence_zero(patient, doctor):
    start = in_future(days=3)
    slot = slot_published(doctor, start=start)
    appointment = Appointment.objects.create(
        patient=patient, doctor=doctor, slot=slot, start=slot.start, end=slot.end
    )
    url = _feed_url(client_for(patient.user))

    (event,) = _events(_read(url)[0]).values()
    assert event.uid.value == f"{appointment.pk}@careslot"
    assert event.sequence.value == "0"
