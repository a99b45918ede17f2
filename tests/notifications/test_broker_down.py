"""With the broker down, bookings and moves answer as usual and lose nothing: the
notifications wait in the outbox and go out, once, when the relay runs after it is back.

The requests go through the whole stack with real commits (`transaction=True`), so the
`on_commit` publish runs inside them as it does under gunicorn, and its time is measured.
"""

import time

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from notifications.models import Notification
from tests.background import celery_publishing_to, hung_broker_url, refusing_broker_url
from tests.conftest import client_for
from tests.factories import DoctorFactory, PatientFactory, in_future
from tests.schedule import slot_published

URL = "/api/v1/appointments/"
pytestmark = pytest.mark.django_db(transaction=True)


def timed(call):
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def test_with_the_broker_refusing_connections_booking_and_moves_answer_at_once(mailoutbox):
    patient, doctor = PatientFactory(), DoctorFactory()
    slots = [slot_published(doctor, start=in_future(days=d).replace(hour=9)) for d in (3, 4)]
    patient_client, doctor_client = client_for(patient.user), client_for(doctor.user)

    with celery_publishing_to(refusing_broker_url()):
        booked, booking_time = timed(lambda: patient_client.post(URL, {"slot": str(slots[0].pk)}))
        appointment = booked.json()["id"]
        confirmed, confirm_time = timed(lambda: doctor_client.post(f"{URL}{appointment}/confirm/"))
        moved, move_time = timed(
            lambda: patient_client.post(
                f"{URL}{appointment}/reschedule/", {"slot": str(slots[1].pk)}
            )
        )

    assert (booked.status_code, confirmed.status_code, moved.status_code) == (201, 200, 201)
    print(
        f"broker refusing: book {booking_time:.3f}s, confirm {confirm_time:.3f}s, "
        f"reschedule {move_time:.3f}s"
    )
    assert max(booking_time, confirm_time, move_time) < 0.5
    waiting = Notification.objects.all()
    assert waiting.count() == 7
    assert {n.email_status for n in waiting} == {"pending"}
    assert mailoutbox == []

    # The broker is back: the relay (beat, or the command) sends what waited, once.
    call_command("send_notifications")
    call_command("send_notifications")

    assert sorted((m.to[0], m.subject) for m in mailoutbox) == sorted(
        [
            (patient.user.email, "Appointment requested"),
            (doctor.user.email, "New booking"),
            (patient.user.email, "Appointment confirmed"),
            (patient.user.email, "Appointment moved"),
            (doctor.user.email, "Appointment moved"),
            # The confirmed appointment's new one is confirmed too.
            (patient.user.email, "Appointment booked"),
            (doctor.user.email, "New booking"),
        ]
    )
    assert set(Notification.objects.values_list("email_status", flat=True)) == {"sent"}


def test_a_broker_that_hangs_delays_one_request_by_the_timeout_and_no_other():
    patient, doctor = PatientFactory(), DoctorFactory()
    slots = [slot_published(doctor, start=in_future(days=d).replace(hour=9)) for d in (3, 4, 5)]
    client = client_for(patient.user)

    with hung_broker_url() as url, celery_publishing_to(url):
        timings = []
        for slot in slots:
            response, elapsed = timed(lambda slot=slot: client.post(URL, {"slot": str(slot.pk)}))
            assert response.status_code == 201
            timings.append(elapsed)

    print("broker hanging: bookings took " + ", ".join(f"{t:.3f}s" for t in timings))
    redis_timeouts = django_settings.REDIS_CONNECT_TIMEOUT + django_settings.REDIS_READ_TIMEOUT
    assert timings[0] < redis_timeouts + 0.5
    assert max(timings[1:]) < 0.5  # the publisher rests instead of waiting again
    assert Notification.objects.filter(email_status="pending").count() == 6
