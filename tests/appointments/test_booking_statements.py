"""What one booking asks of PostgreSQL and of the broker (issue 20, bench/README.md
"`POST /appointments/`"): a fixed list of twelve statements, two round trips inside the
transaction besides BEGIN and COMMIT, and one publish after its commit. A change that adds
a statement or a publish to the booking path fails here; if it is worth its cost, update
the list and the README."""

import base64
import json
import re

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Notification
from tests.background import celery_publishing_to
from tests.conftest import client_for
from tests.factories import DoctorFactory, PatientFactory, in_future
from tests.schedule import slot_published
from webhooks.models import WebhookDelivery, WebhookEndpoint

URL = "/api/v1/appointments/"

# The statements of one booking by a patient, in order, each as a pattern its SQL matches.
# The six after `lock_timeout` go to PostgreSQL in one round trip (psycopg's pipeline mode).
BOOKING_STATEMENTS = [
    r'SELECT "accounts_user"\.',  # the signed-in user (authentication, as for every request)
    r"SELECT s\.\"id\".* d\.is_blacklisted FROM scheduling_slot",  # the check before any lock
    r"BEGIN$",
    r"SELECT set_config\('lock_timeout'",
    r"SELECT d\.\"user_id\".* FOR SHARE OF d$",  # the doctor, shared
    r"SELECT s\.\"id\".* FOR NO KEY UPDATE$",  # the slot
    r"SELECT p\.\"user_id\".* FOR NO KEY UPDATE OF p$",  # the patient, with their penalties
    r"SELECT c\.upcoming",  # the patient's active appointments: how many, which overlap
    r"SELECT s\.id, EXISTS",  # holiday or time off over the slot
    r"SELECT id FROM webhooks_webhookendpoint",  # who wants `appointment.booked`
    r'WITH w0 AS \(UPDATE "scheduling_slot" ',  # every write: one data-modifying WITH
    r"COMMIT$",
]


def statement_heads(queries) -> list[str]:
    """Each statement as the first pattern of BOOKING_STATEMENTS it matches, else its SQL."""
    heads = []
    for query in queries:
        sql = " ".join(query["sql"].split())
        heads.append(next((p for p in BOOKING_STATEMENTS if re.match(p, sql)), sql))
    return heads


def booked(client, slot, redis_url: str, queue: str) -> list[dict]:
    """Book `slot`; the messages the booking published to `queue`."""
    with celery_publishing_to(redis_url, queue=queue):
        response = client.post(URL, {"slot": str(slot.pk)})
    assert response.status_code == 201, response.json()
    raw = redis.Redis.from_url(redis_url).lrange(queue, 0, -1)
    return [json.loads(message) for message in raw]


@pytest.fixture
def booking():
    doctor = DoctorFactory()
    slot = slot_published(doctor, start=in_future(days=3).replace(hour=9))
    return client_for(PatientFactory().user), slot


def booking_statements(client, slot) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.post(URL, {"slot": str(slot.pk)})
    assert response.status_code == 201, response.json()
    return statement_heads(queries.captured_queries)


@pytest.fixture
def webhook_subscriber():
    return WebhookEndpoint.objects.create(
        url="https://hooks.example.test/careslot",
        events=["appointment.booked"],
        secret="whsec_" + "A" * 32,
    )


# Transactions of their own: the booking's BEGIN and COMMIT are real ones, and so is the
# publish after the commit (to a real Redis: in-process delivery would add its own queries).
@pytest.mark.django_db(transaction=True)
class TestOneBooking:
    def test_sends_exactly_these_statements(self, booking, live_redis_url, worker_queue):
        with celery_publishing_to(live_redis_url, queue=worker_queue):
            assert booking_statements(*booking) == BOOKING_STATEMENTS

    def test_with_a_webhook_subscriber_it_sends_the_same_statements(
        self, booking, webhook_subscriber, live_redis_url, worker_queue
    ):
        with celery_publishing_to(live_redis_url, queue=worker_queue):
            assert booking_statements(*booking) == BOOKING_STATEMENTS
        assert WebhookDelivery.objects.count() == 1

    def test_without_a_broker_it_sends_the_same_and_one_wake(self, booking, settings, mailoutbox):
        """No Redis (`make run`'s default): no email inside the request, one NOTIFY after the
        commit for the background process's relay (core/background.py)."""
        settings.RELAY_IN_PROCESS = True
        assert booking_statements(*booking) == [
            *BOOKING_STATEMENTS,
            "SELECT pg_notify('careslot_background', 'notifications.relay')",
        ]
        assert mailoutbox == []

    def test_publishes_one_message_for_all_its_outbox_rows(
        self, booking, webhook_subscriber, live_redis_url, worker_queue
    ):
        client, slot = booking

        [message] = booked(client, slot, live_redis_url, worker_queue)

        assert message["headers"]["task"] == "outbox.deliver"
        [args, kwargs, _] = json.loads(base64.b64decode(message["body"]))
        assert args == []
        assert sorted(kwargs["rows"]["notifications.deliver"]) == sorted(
            str(pk) for pk in Notification.objects.values_list("pk", flat=True)
        )
        assert kwargs["rows"]["webhooks.deliver"] == [str(WebhookDelivery.objects.get().pk)]
