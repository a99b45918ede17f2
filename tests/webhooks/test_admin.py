"""Webhooks in the admin site: endpoints registered through the services (checked, audited,
the secret never shown again), and the delivery log with its redeliver action."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from audit.models import AuditLog
from tests.webhooks.receiver import SECRET
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.services import webhook_endpoint_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def form(**changes) -> dict:
    return {
        "url": "https://ehr.example.org/hooks",
        "events": ["appointment.booked", "penalty.created"],
        "secret": SECRET,
        "is_active": "on",
        **changes,
    }


def test_an_endpoint_is_added_audited_and_its_secret_never_shown(staff):
    response = staff.post(reverse("admin:webhooks_webhookendpoint_add"), form())
    assert response.status_code == 302, response.content[:1000]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["appointment.booked", "penalty.created"]
    assert AuditLog.objects.filter(action="create", target_type="webhookendpoint").exists()

    change = reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])
    assert SECRET not in staff.get(change).content.decode()
    # Left empty on the change page, the secret stays.
    response = staff.post(change, form(secret="", url="https://ehr.example.org/v2"))
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.secret) == ("https://ehr.example.org/v2", SECRET)


@pytest.mark.parametrize(
    "changes", [{"secret": "plain"}, {"url": "http://192.168.0.10/"}, {"events": []}]
)
def test_a_bad_endpoint_is_a_form_error(staff, changes):
    response = staff.post(reverse("admin:webhooks_webhookendpoint_add"), form(**changes))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_and_its_redeliver_action(staff):
    endpoint = webhook_endpoint_create(
        url="https://ehr.example.org/", events=["appointment.booked"], secret=SECRET
    )
    event = WebhookEvent.objects.create(type="appointment.booked", data={})
    failed = WebhookDelivery.objects.create(
        event=event,
        endpoint=endpoint,
        status="failed",
        attempts=8,
        last_error="HTTP 502: bad gateway",
        response_status=502,
        response_time_ms=41,
    )
    waiting = WebhookDelivery.objects.create(event=event, endpoint=endpoint)
    changelist = reverse("admin:webhooks_webhookdelivery_changelist")

    page = staff.get(changelist).content.decode()
    assert "HTTP 502: bad gateway" in page
    assert "appointment.booked" in page

    response = staff.post(
        changelist, {"action": "redeliver", "_selected_action": [str(failed.pk), str(waiting.pk)]}
    )
    assert response.status_code == 302
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("has not finished" in m for m in messages)
    assert "Queued 1 redelivery(ies)." in messages
    again = WebhookDelivery.objects.get(redelivery_of=failed)
    assert (again.status, again.event_id) == ("pending", event.pk)
