"""Writes about webhooks: the endpoints (audited), the events and their deliveries (outbox
rows, `core.outbox`), and manual redelivery.

An event is written by `webhook_event_emit` inside the transaction of the change it tells of,
with one delivery per active endpoint that wants its type: it exists if and only if the change
committed, and a change nobody subscribes to writes nothing. Each delivery is queued only after
that commit; with the broker down it waits for the relay (`webhooks.delivery.webhooks_relay`,
on the beat).

This app imports no other CareSlot app: callers pass the event's type and its data.
"""

import base64
import binascii
import ipaddress
from collections.abc import Iterable
from functools import partial
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from audit.services import audit_model_create, audit_model_delete, audit_model_update, model_values
from core.outbox import OutboxStatus, task_enqueue
from webhooks import outbound, tasks
from webhooks.exceptions import (
    DeliveryInProgress,
    WebhookInactive,
    WebhookSecretInvalid,
    WebhookUrlInvalid,
)
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
ENDPOINT_FIELDS = ["url", "events", "secret", "is_active"]


def webhook_secret_check(secret: str) -> None:
    """Standard Webhooks' secret format: `whsec_` and base64 of 24 to 64 bytes."""
    if not secret.startswith(SECRET_PREFIX):
        raise WebhookSecretInvalid()
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError) as error:
        raise WebhookSecretInvalid() from error
    if not 24 <= len(key) <= 64:
        raise WebhookSecretInvalid()


def webhook_url_check(url: str) -> None:
    """http or https with a host; a host written as an address must be one that may be
    called (a name is checked on what it resolves to, at each send)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookUrlInvalid()
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return
    if not outbound.address_allowed(address):
        raise WebhookUrlInvalid(
            "Private, loopback, link-local and reserved addresses are not called "
            "(WEBHOOK_ALLOWED_NETWORKS)."
        )


def webhook_endpoint_create(
    *, url: str, events: Iterable[str], secret: str, is_active: bool = True
) -> WebhookEndpoint:
    """Register an endpoint for some event types, with its signing secret; audited (the
    secret only as set)."""
    webhook_url_check(url)
    webhook_secret_check(secret)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            url=url, events=sorted(set(events)), secret=secret, is_active=is_active
        )
        audit_model_create(instance=endpoint, fields=ENDPOINT_FIELDS)
    return endpoint


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, **changes) -> WebhookEndpoint:
    """Change any of `url`, `events`, `secret` and `is_active` (a PATCH: what is left out
    stays; nothing asked, nothing written); audited. Deliveries already written keep going
    to this endpoint as it is when they are sent."""
    if not changes:
        return endpoint
    if "url" in changes:
        webhook_url_check(changes["url"])
    if "secret" in changes:
        webhook_secret_check(changes["secret"])
    if "events" in changes:
        changes["events"] = sorted(set(changes["events"]))
    with transaction.atomic():
        before = model_values(endpoint, ENDPOINT_FIELDS)
        for field, value in changes.items():
            setattr(endpoint, field, value)
        endpoint.save()
        audit_model_update(instance=endpoint, before=before)
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Remove an endpoint with its delivery log; audited."""
    with transaction.atomic():
        audit_model_delete(instance=endpoint, fields=["url", "events", "is_active"])
        endpoint.delete()


def webhook_event_emit(*, type: str, data: dict) -> WebhookEvent | None:
    """Write one event and a delivery to each active endpoint wanting `type`, in the caller's
    transaction, and queue the deliveries for after its commit. None (nothing written) when
    no endpoint wants it. `data` must hold no clinical text or insurance data."""
    endpoints = list(
        WebhookEndpoint.objects.filter(is_active=True, events__contains=[type]).values_list(
            "pk", flat=True
        )
    )
    if not endpoints:
        return None
    now = timezone.now()
    event = WebhookEvent.objects.create(type=type, occurred_at=now, data=data)
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(event=event, endpoint_id=endpoint_id, created_at=now, next_attempt_at=now)
        for endpoint_id in endpoints
    )
    for delivery in deliveries:
        transaction.on_commit(partial(delivery_enqueue, delivery_id=delivery.pk), robust=True)
    return event


def delivery_enqueue(*, delivery_id) -> None:
    """Queue one committed delivery (`core.outbox.task_enqueue`: never raises)."""
    task_enqueue(
        tasks.webhook_deliver,
        relay=tasks.webhooks_relay,
        row=f"Webhook delivery {delivery_id}",
        delivery_id=str(delivery_id),
    )


def webhook_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a finished delivery's event to its endpoint again, as a new delivery (the same
    `webhook-id`), queued after the commit; audited. Only once the delivery is sent or failed
    (409 `delivery_in_progress`), and only to an active endpoint (409 `webhook_inactive`)."""
    if delivery.status not in (OutboxStatus.SENT, OutboxStatus.FAILED):
        raise DeliveryInProgress()
    if not delivery.endpoint.is_active:
        raise WebhookInactive()
    with transaction.atomic():
        again = WebhookDelivery.objects.create(
            event_id=delivery.event_id, endpoint_id=delivery.endpoint_id, redelivery_of=delivery
        )
        audit_model_create(
            instance=again, fields=["event", "endpoint", "redelivery_of"], action="redeliver"
        )
        transaction.on_commit(partial(delivery_enqueue, delivery_id=again.pk), robust=True)
    return again
