"""Deliveries to a real receiver started by the test: signed per Standard Webhooks, made
once even when raced or repeated, retried with backoff after a failure or a timeout, never
after a 2xx, bounded (timeouts, no redirects, a cap on what is read back) and refused to
private, loopback and link-local addresses unless WEBHOOK_ALLOWED_NETWORKS lists them."""

import json
import time
from datetime import timedelta
from functools import partial

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from standardwebhooks import Webhook

from core.outbox import Outcome
from tests.background import celery_publishing_to, refusing_broker_url
from tests.concurrency import run_at_once
from tests.conftest import client_for
from tests.factories import DoctorFactory, PatientFactory, in_future
from tests.schedule import slot_published
from tests.webhooks.receiver import SECRET, endless, redirect, slow, webhook_receiver
from webhooks import outbound
from webhooks.delivery import webhook_deliver, webhooks_relay
from webhooks.models import WebhookDelivery, WebhookEvent
from webhooks.services import webhook_endpoint_create

APPOINTMENT = {"id": "a7f0c0de-0000-4000-8000-000000000001", "status": "pending"}


def waiting_delivery(url: str) -> WebhookDelivery:
    """A delivery of one `appointment.booked` event to `url`, waiting for its first attempt
    (as one does while the broker is down)."""
    endpoint = webhook_endpoint_create(url=url, events=["appointment.booked"], secret=SECRET)
    event = WebhookEvent.objects.create(
        type="appointment.booked", data={"appointment": APPOINTMENT}
    )
    return WebhookDelivery.objects.create(event=event, endpoint=endpoint)


def state(delivery: WebhookDelivery) -> tuple:
    delivery.refresh_from_db()
    return delivery.status, delivery.attempts


@pytest.mark.django_db
def test_a_delivery_is_signed_and_made_once():
    with webhook_receiver(204) as receiver:
        delivery = waiting_delivery(receiver.url)

        assert webhook_deliver(delivery_id=delivery.pk) == Outcome.SENT
        assert webhook_deliver(delivery_id=delivery.pk) == Outcome.SKIPPED
        assert webhooks_relay() == 0

    (request,) = receiver.requests()
    assert request.path == "/hooks?source=careslot"
    assert request.headers["webhook-id"] == str(delivery.event_id)
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 60
    assert request.headers["webhook-signature"].startswith("v1,")
    assert request.headers["Content-Type"] == "application/json"
    (body,) = receiver.verified()
    assert body == {
        "type": "appointment.booked",
        "id": str(delivery.event_id),
        "occurred_at": delivery.event.occurred_at.isoformat().replace("+00:00", "Z"),
        "data": {
            "appointment": {"id": "a7f0c0de-0000-4000-8000-000000000001", "status": "pending"}
        },
    }
    # Signed under another secret, the same request does not verify.
    other = Webhook("whsec_" + "A" * 32)
    with pytest.raises(Exception, match="signature"):
        other.verify(request.body, request.headers)
    assert state(delivery) == ("sent", 1)
    assert delivery.response_status == 204
    assert delivery.response_time_ms is not None
    assert delivery.delivered_at is not None


@pytest.mark.django_db(transaction=True)
def test_eight_workers_making_one_delivery_at_once_call_once():
    with webhook_receiver(200) as receiver:
        for round_number in range(3):
            delivery = waiting_delivery(receiver.url)
            results = run_at_once([partial(webhook_deliver, delivery_id=delivery.pk)] * 8)
            assert sorted(results) == sorted([Outcome.SENT] + [Outcome.SKIPPED] * 7)
            assert len(receiver.requests()) == round_number + 1
            assert state(delivery) == ("sent", 1)


@pytest.mark.django_db(transaction=True)
def test_two_relays_at_once_make_every_waiting_delivery_once():
    with webhook_receiver(200) as receiver:
        deliveries = [waiting_delivery(receiver.url) for _ in range(6)]
        sent = run_at_once([webhooks_relay, webhooks_relay])
    assert sum(sent) == 6
    ids = [r.headers["webhook-id"] for r in receiver.requests()]
    assert sorted(ids) == sorted(str(d.event_id) for d in deliveries)


@pytest.mark.django_db
def test_a_failure_is_retried_with_backoff_and_never_after_a_2xx(settings):
    settings.WEBHOOK_RETRY_BACKOFF = timedelta(minutes=1)
    with webhook_receiver(503, 503, 200) as receiver:
        delivery = waiting_delivery(receiver.url)

        assert webhook_deliver(delivery_id=delivery.pk) == Outcome.RETRY
        assert state(delivery) == ("pending", 1)
        assert delivery.last_error == "HTTP 503: ok"
        assert delivery.response_status == 503
        first_wait = delivery.next_attempt_at - timezone.now()
        assert timedelta(seconds=55) < first_wait <= timedelta(minutes=1)
        # Not due yet: nobody calls.
        assert webhook_deliver(delivery_id=delivery.pk) == Outcome.SKIPPED
        assert webhooks_relay() == 0

        with time_machine.travel(timezone.now() + timedelta(minutes=1, seconds=1)):
            assert webhooks_relay() == 0
            assert state(delivery) == ("pending", 2)
            # The second wait is twice the first.
            second_wait = delivery.next_attempt_at - timezone.now()
            assert timedelta(minutes=1, seconds=55) < second_wait <= timedelta(minutes=2)
        with time_machine.travel(timezone.now() + timedelta(minutes=3, seconds=2)):
            assert webhooks_relay() == 1
            assert state(delivery) == ("sent", 3)
        with time_machine.travel(timezone.now() + timedelta(hours=5)):
            assert webhooks_relay() == 0
    assert len(receiver.requests()) == 3
    assert delivery.last_error == "HTTP 503: ok"  # the log keeps the last failure


@pytest.mark.django_db
def test_after_the_last_attempt_the_delivery_fails(settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    settings.WEBHOOK_RETRY_BACKOFF = timedelta(seconds=0)
    with webhook_receiver(500) as receiver:
        delivery = waiting_delivery(receiver.url)
        assert webhook_deliver(delivery_id=delivery.pk) == Outcome.RETRY
        assert webhook_deliver(delivery_id=delivery.pk) == Outcome.FAILED
        assert webhook_deliver(delivery_id=delivery.pk) == Outcome.SKIPPED
    assert state(delivery) == ("failed", 2)
    assert len(receiver.requests()) == 2


@pytest.mark.django_db
def test_a_receiver_slower_than_the_read_timeout_is_a_failed_attempt(settings):
    settings.WEBHOOK_READ_TIMEOUT = 0.5
    with webhook_receiver(slow(3)) as receiver:
        delivery = waiting_delivery(receiver.url)
        started = time.monotonic()
        assert webhook_deliver(delivery_id=delivery.pk) == Outcome.RETRY
        assert time.monotonic() - started < 2
    state(delivery)
    assert "ReadTimeout" in delivery.last_error
    assert delivery.response_status is None


@pytest.mark.django_db
def test_a_refused_connection_is_a_failed_attempt():
    with webhook_receiver() as receiver:
        url = receiver.url
    delivery = waiting_delivery(url)  # nothing listens there any more
    assert webhook_deliver(delivery_id=delivery.pk) == Outcome.RETRY
    state(delivery)
    assert "refused" in delivery.last_error.lower() or "Connection" in delivery.last_error


@pytest.mark.django_db
def test_redirects_are_not_followed():
    with webhook_receiver(200) as elsewhere, webhook_receiver(redirect(elsewhere.url)) as receiver:
        delivery = waiting_delivery(receiver.url)
        assert webhook_deliver(delivery_id=delivery.pk) == Outcome.RETRY
    assert elsewhere.requests() == []
    state(delivery)
    assert delivery.last_error.startswith("HTTP 307 (redirects are not followed)")


@pytest.mark.django_db
def test_what_is_read_back_is_capped(settings):
    settings.WEBHOOK_RESPONSE_MAX_BYTES = 10_000
    with webhook_receiver(endless(500)) as receiver:
        delivery = waiting_delivery(receiver.url)
        started = time.monotonic()
        assert webhook_deliver(delivery_id=delivery.pk) == Outcome.RETRY
        assert time.monotonic() - started < 5
    state(delivery)
    assert delivery.last_error == "HTTP 500: " + "x" * 500


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_is_refused_unless_allowed_checked_on_the_resolved_address(settings, host):
    with webhook_receiver(200) as receiver:
        delivery = waiting_delivery(receiver.url.replace("127.0.0.1", host))
        settings.WEBHOOK_ALLOWED_NETWORKS = ""
        assert webhook_deliver(delivery_id=delivery.pk) == Outcome.FAILED
    assert receiver.requests() == []
    state(delivery)
    assert "private, loopback, link-local or reserved addresses are not called" in (
        delivery.last_error
    )


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.10", False),
        ("169.254.169.254", False),  # cloud metadata
        ("127.0.0.1", False),
        ("0.0.0.0", False),  # noqa: S104
        ("100.64.0.1", False),  # carrier-grade NAT
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("93.184.215.14", True),
        ("2606:4700:4700::1111", True),
    ],
)
def test_which_addresses_may_be_called(settings, address, allowed):
    import ipaddress

    settings.WEBHOOK_ALLOWED_NETWORKS = ""
    assert outbound.address_allowed(ipaddress.ip_address(address)) is allowed
    settings.WEBHOOK_ALLOWED_NETWORKS = "10.0.0.0/8, 127.0.0.1"
    expected = allowed or address in (
        "10.1.2.3",
        "127.0.0.1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
    )
    assert outbound.address_allowed(ipaddress.ip_address(address)) is expected


@pytest.mark.django_db
def test_an_inactive_endpoint_is_not_called():
    with webhook_receiver(200) as receiver:
        delivery = waiting_delivery(receiver.url)
        delivery.endpoint.is_active = False
        delivery.endpoint.save()
        assert webhook_deliver(delivery_id=delivery.pk) == Outcome.FAILED
    assert receiver.requests() == []


def test_the_body_is_the_events_json_as_signed():
    body = json.dumps({"b": 1, "a": [2]}, separators=(",", ":"), sort_keys=True)
    assert body == '{"a":[2],"b":1}'


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_a_booking_succeeds_and_its_delivery_waits_for_the_relay():
    patient, doctor = PatientFactory(), DoctorFactory()
    slot = slot_published(doctor, start=in_future(days=3).replace(hour=9))
    with webhook_receiver(204) as receiver:
        webhook_endpoint_create(url=receiver.url, events=["appointment.booked"], secret=SECRET)
        with celery_publishing_to(refusing_broker_url()):
            response = client_for(patient.user).post(
                "/api/v1/appointments/", {"slot": str(slot.pk)}
            )
        assert response.status_code == 201
        assert list(WebhookDelivery.objects.values_list("status", flat=True)) == ["pending"]
        assert receiver.requests() == []

        # The broker is back: the relay (beat, or the command) makes it, once.
        call_command("send_webhooks")
        call_command("send_webhooks")
    (body,) = receiver.verified()
    assert body["data"]["appointment"]["id"] == response.json()["id"]
