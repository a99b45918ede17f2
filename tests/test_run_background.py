"""Background work without a broker (core/background.py, `make run` without Redis): the web
process wakes the relay after the commit instead of sending the email itself, and the beat
schedule runs each task at start and then when it is due."""

from datetime import timedelta

import pytest
from django.db import connections

from config.celery import app
from core.background import WAKE_CHANNEL, BackgroundSchedule
from core.outbox import OutboxStatus
from notifications.models import Notification
from tests.conftest import client_for
from tests.factories import DoctorFactory, PatientFactory, in_future
from tests.schedule import slot_published


@pytest.fixture
def listener():
    """A session LISTENing on the wake channel, as `manage.py run_background` does."""
    session = connections.create_connection("default")
    session.ensure_connection()
    session.connection.execute(f"LISTEN {WAKE_CHANNEL}")
    yield session.connection
    session.close()


@pytest.mark.django_db(transaction=True)
def test_a_booking_wakes_the_relay_after_its_commit_and_sends_nothing_itself(
    settings, listener, mailoutbox
):
    settings.RELAY_IN_PROCESS = True
    patient, doctor = PatientFactory(), DoctorFactory()
    slot = slot_published(doctor, start=in_future(days=3).replace(hour=9))

    response = client_for(patient.user).post("/api/v1/appointments/", {"slot": str(slot.pk)})

    assert response.status_code == 201, response.json()
    assert mailoutbox == []
    assert set(Notification.objects.values_list("email_status", flat=True)) == {
        OutboxStatus.PENDING
    }
    wakes = [n.payload for n in listener.notifies(timeout=2, stop_after=2)]
    assert wakes == ["notifications.relay"]  # one for the patient's and the doctor's

    BackgroundSchedule(app).run("notifications.relay")
    assert sorted(m.to[0] for m in mailoutbox) == sorted([patient.user.email, doctor.user.email])


@pytest.mark.django_db(transaction=True)
def test_a_booking_that_fails_wakes_nothing(settings, listener):
    settings.RELAY_IN_PROCESS = True
    slot = slot_published(DoctorFactory(), start=in_future(days=3).replace(hour=9))
    client_for(PatientFactory().user).post("/api/v1/appointments/", {"slot": str(slot.pk)})
    list(listener.notifies(timeout=1, stop_after=2))

    taken = client_for(PatientFactory().user).post("/api/v1/appointments/", {"slot": str(slot.pk)})

    assert taken.status_code == 409
    assert list(listener.notifies(timeout=0.5)) == []


@pytest.mark.django_db(transaction=True)
def test_each_task_runs_at_start_then_when_its_schedule_says(settings):
    schedule = BackgroundSchedule(app)

    wait = schedule.run_due()

    assert set(schedule.entries) == {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    first_runs = dict(schedule.last_run)
    assert None not in first_runs.values()
    assert 0 < wait <= settings.NOTIFICATION_RELAY_SECONDS

    assert schedule.run_due() > 0
    assert schedule.last_run == first_runs  # nothing was due again yet

    relay_interval = timedelta(seconds=settings.NOTIFICATION_RELAY_SECONDS)
    schedule.last_run["notifications.relay"] -= relay_interval
    schedule.run_due()
    ran_again = {task for task, at in schedule.last_run.items() if at != first_runs[task]}
    assert ran_again == {"notifications.relay"}
