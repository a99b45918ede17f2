"""Redis refusing connections, or accepting them and never answering, takes no endpoint down.

The app runs under gunicorn with the production settings and `REDIS_URL` pointing at the
broken Redis (the cache of the throttles and the Celery broker alike), the rate limits on. A
walk through the API (health, sign-in, lists, a booking, a transition) answers every request
with its usual status, each within a bound (`ANSWER_SECONDS`: a hang detector, not a speed
claim), and the booking's notifications wait in the outbox for the relay.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from rest_framework_simplejwt.tokens import AccessToken

from notifications.models import Notification
from tests.background import hung_broker_url, refusing_broker_url
from tests.factories import PASSWORD, DoctorFactory, PatientFactory, in_future
from tests.schedule import slot_published
from tests.servers import gunicorn_serving, http_json, production_env

pytestmark = pytest.mark.django_db(transaction=True)

ANSWER_SECONDS = 5


@contextmanager
def refusing_redis() -> Iterator[str]:
    yield refusing_broker_url()


BROKEN_REDIS = {"refusing": refusing_redis, "silent": hung_broker_url}


class Walk:
    """Requests to one server, each bounded in time."""

    def __init__(self, base: str) -> None:
        self.base = base

    def __call__(self, method: str, path: str, *, body=None, token="") -> tuple[int, dict]:
        started = time.monotonic()
        try:
            status, answer = http_json(
                method, f"{self.base}/api/v1{path}", body=body, token=token, timeout=ANSWER_SECONDS
            )
        except TimeoutError:
            pytest.fail(f"{method} {path} did not answer within {ANSWER_SECONDS} s")
        elapsed = time.monotonic() - started
        print(f"{method} {path}: {status} in {elapsed:.3f} s")
        assert elapsed < ANSWER_SECONDS
        return status, answer


def served_password_set(user) -> None:
    """Hash PASSWORD as the served settings do (the suite's hasher is a fast one they lack)."""
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])


@pytest.mark.parametrize("broken", BROKEN_REDIS)
def test_every_endpoint_answers_while_redis_is_broken(tmp_path, broken):
    patient, doctor = PatientFactory(), DoctorFactory()
    served_password_set(patient.user)
    # Signed with the key the server shares; one sign-in over HTTP is enough (each costs a
    # password hash of a second or two on a busy machine).
    doctor_token = str(AccessToken.for_user(doctor.user))
    slot = slot_published(doctor, start=in_future(days=3).replace(hour=9))

    with BROKEN_REDIS[broken]() as redis_url:
        env = {**production_env(tmp_path), "REDIS_URL": redis_url}
        with gunicorn_serving(env) as base:
            walk = Walk(base)

            status, health = walk("GET", "/health/")
            assert status == 200, health
            assert health == {
                "status": "degraded",
                "database": "ok",
                "broker": "down",
                "cache": "down",
            }

            status, tokens = walk(
                "POST",
                "/auth/token/",
                body={"username": patient.user.username, "password": PASSWORD},
            )
            assert status == 200, tokens
            patient_token = tokens["access"]
            status, doctors = walk("GET", "/doctors/")
            assert (status, doctors["count"]) == (200, 1)
            status, slots = walk("GET", f"/doctors/{doctor.pk}/slots/")
            assert (status, [s["id"] for s in slots["results"]]) == (200, [str(slot.pk)])

            status, booked = walk(
                "POST", "/appointments/", body={"slot": str(slot.pk)}, token=patient_token
            )
            assert status == 201, booked
            status, confirmed = walk(
                "POST", f"/appointments/{booked['id']}/confirm/", token=doctor_token
            )
            assert (status, confirmed["status"]) == (200, "confirmed")
            status, mine = walk("GET", "/appointments/", token=patient_token)
            assert (status, [a["status"] for a in mine["results"]]) == (200, ["confirmed"])
            status, inbox = walk("GET", "/notifications/", token=patient_token)
            assert (status, inbox["count"]) == (200, 2)

    # Requested and confirmed for the patient, a new booking for the doctor: all in the outbox.
    waiting = Notification.objects.filter(appointment_id=booked["id"])
    assert sorted(waiting.values_list("recipient_id", "email_status")) == sorted(
        [
            (patient.user.pk, "pending"),
            (patient.user.pk, "pending"),
            (doctor.user.pk, "pending"),
        ]
    )
