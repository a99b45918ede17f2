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
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from audit.services import audit_model_create, audit_model_delete, audit_model_update, model_values
from core.outbox import OutboxStatus, outbox_rows_queue
from core.statements import RowWrites, Statement
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


_WANTING_SQL = (
    "SELECT id FROM webhooks_webhookendpoint WHERE is_active AND events @> ARRAY[%s]::varchar[] "
    "ORDER BY created_at, id"
)


def webhook_endpoints_wanting_statement(*, type: str) -> Statement[list[UUID]]:
    """The ids of the active endpoints that want events of `type`, for a caller that sends
    this read with others (`core.statements.statements_run`) before `webhook_event_rows`."""
    return Statement(_WANTING_SQL, [type], lambda rows: [endpoint_id for (endpoint_id,) in rows])


def webhook_event_rows(
    *, type: str, data: dict, endpoint_ids: Sequence[UUID]
) -> tuple[WebhookEvent, list[WebhookDelivery]]:
    """One event and a delivery to each of `endpoint_ids` (those wanting `type`, at least
    one), not yet written: for a caller that writes them with its other rows in one statement
    (`core.statements.RowWrites`) and then queues the deliveries (`deliveries_queue`).
    `data` must hold no clinical text or insurance data."""
    now = timezone.now()
    event = WebhookEvent(type=type, occurred_at=now, data=data)
    deliveries = [
        WebhookDelivery(event=event, endpoint_id=endpoint_id, created_at=now, next_attempt_at=now)
        for endpoint_id in endpoint_ids
    ]
    return event, deliveries


def webhook_event_emit(*, type: str, data: dict) -> WebhookEvent | None:
    """Write one event and a delivery to each active endpoint wanting `type`, in the caller's
    transaction, and queue the deliveries for after its commit. None (nothing written) when
    no endpoint wants it."""
    endpoint_ids = webhook_endpoints_wanting_statement(type=type).run()
    if not endpoint_ids:
        return None
    event, deliveries = webhook_event_rows(type=type, data=data, endpoint_ids=endpoint_ids)
    writes = RowWrites()
    writes.insert(event, *deliveries)
    writes.run()
    deliveries_queue(deliveries)
    return event


def deliveries_queue(deliveries: Iterable[WebhookDelivery]) -> None:
    """Queue deliveries written in the current transaction for after its commit
    (`core.outbox.outbox_rows_queue`: never raises)."""
    outbox_rows_queue(
        deliver=tasks.webhook_deliver,
        relay=tasks.webhooks_relay,
        row_ids=[delivery.pk for delivery in deliveries],
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
        deliveries_queue([again])
    return again
