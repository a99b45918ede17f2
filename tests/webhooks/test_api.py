"""The /webhooks/ API: registering endpoints (the secret never shown, bad URLs and secrets a
400 that writes nothing), the delivery log, and manual redelivery."""

import base64
import os
import re

import pytest

from tests.conftest import error_attrs, error_codes
from tests.webhooks.receiver import SECRET, webhook_receiver
from webhooks.api.serializers import SECRET_PATTERN
from webhooks.delivery import webhook_deliver
from webhooks.exceptions import WebhookSecretInvalid
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.services import webhook_secret_check

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/"


def register(admin_client, **changes):
    body = {
        "url": "https://ehr.example.org/hooks",
        "events": ["appointment.booked", "appointment.cancelled"],
        "secret": SECRET,
        **changes,
    }
    return admin_client.post(URL, body)


def test_an_endpoint_is_registered_and_its_secret_never_shown(admin_client):
    response = register(admin_client)
    assert response.status_code == 201
    body = response.json()
    assert "secret" not in body
    assert body["events"] == ["appointment.booked", "appointment.cancelled"]
    assert body["is_active"] is True
    assert "secret" not in admin_client.get(f"{URL}{body['id']}/").json()
    assert WebhookEndpoint.objects.get().secret == SECRET

    response = admin_client.patch(f"{URL}{body['id']}/", {"events": ["penalty.created"]})
    assert response.status_code == 200
    assert response.json()["events"] == ["penalty.created"]


@pytest.mark.parametrize(
    ("changes", "attr"),
    [
        ({"secret": "not-a-secret"}, "secret"),
        ({"secret": "whsec_" + "QUJD"}, "secret"),  # 3 bytes: too short
        ({"secret": "whsec_***"}, "secret"),
        ({"url": "ftp://ehr.example.org/"}, "url"),
        ({"url": "http://10.0.0.5/hooks"}, "url"),
        ({"url": "http://169.254.169.254/latest/"}, "url"),
        ({"url": "http://[fe80::1]/"}, "url"),
        ({"events": []}, "events"),
        ({"events": ["appointment.booked", "appointment.deleted"]}, "events"),
        ({"events": [{}]}, "events"),
        ({"url": 7}, "url"),
        ({"is_active": "yes"}, "is_active"),
        ({"role": "admin"}, "role"),
    ],
)
def test_bad_endpoints_are_a_400_and_write_nothing(admin_client, changes, attr):
    response = register(admin_client, **changes)
    assert response.status_code == 400, response.content
    assert attr in error_attrs(response)
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_and_a_redelivery(admin_client):
    with webhook_receiver(500, 204) as receiver:
        endpoint_id = register(admin_client, url=receiver.url).json()["id"]
        event = WebhookEvent.objects.create(type="appointment.booked", data={"appointment": {}})
        delivery = WebhookDelivery.objects.create(event=event, endpoint_id=endpoint_id)

        # Not finished yet: no redelivery.
        response = admin_client.post(f"{URL}deliveries/{delivery.pk}/redeliver/")
        assert response.status_code == 409
        assert error_codes(response) == ["delivery_in_progress"]

        webhook_deliver(delivery_id=delivery.pk)
        (row,) = admin_client.get(f"{URL}{endpoint_id}/deliveries/").json()["results"]
        assert row["status"] == "pending"
        assert row["attempts"] == 1
        assert row["last_error"] == "HTTP 500: ok"
        assert row["response_status"] == 500
        assert row["response_time_ms"] >= 0
        assert row["event"] == str(event.pk)
        assert row["event_type"] == "appointment.booked"

        WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed")
        response = admin_client.post(f"{URL}deliveries/{delivery.pk}/redeliver/")
        assert response.status_code == 202
        again = response.json()
        assert again["redelivery_of"] == str(delivery.pk)
        assert again["event"] == str(event.pk)
        assert webhook_deliver(delivery_id=again["id"]).value == "sent"

    assert [r.headers["webhook-id"] for r in receiver.requests()] == [str(event.pk)] * 2
    rows = admin_client.get(f"{URL}{endpoint_id}/deliveries/").json()["results"]
    assert [(r["status"], r["attempts"]) for r in rows] == [("sent", 1), ("failed", 1)]


def test_no_redelivery_to_an_inactive_endpoint(admin_client):
    endpoint_id = register(admin_client, is_active=False).json()["id"]
    event = WebhookEvent.objects.create(type="appointment.booked", data={})
    delivery = WebhookDelivery.objects.create(event=event, endpoint_id=endpoint_id, status="sent")
    response = admin_client.post(f"{URL}deliveries/{delivery.pk}/redeliver/")
    assert response.status_code == 409
    assert error_codes(response) == ["webhook_inactive"]
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.parametrize("length", [0, 16, 23, 24, 25, 32, 62, 63, 64, 65, 66, 80])
def test_the_schemas_secret_pattern_is_the_services_rule(length):
    secret = "whsec_" + base64.b64encode(os.urandom(length)).decode()
    try:
        webhook_secret_check(secret)
        accepted = True
    except WebhookSecretInvalid:
        accepted = False
    assert accepted == bool(re.match(SECRET_PATTERN, secret)) == (24 <= length <= 64)
