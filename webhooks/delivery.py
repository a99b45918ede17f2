"""Calling webhook endpoints, each delivery once: the worker side of the outbox (`core.outbox`
claims, retries and relays the rows; `webhooks.outbound` makes the bounded call).

Each attempt is signed per Standard Webhooks (v1.0.0 of the specification, with the
`standardwebhooks` package): `webhook-id` is the event's id (the same for every attempt and
redelivery, so a receiver can drop what it has seen), `webhook-timestamp` the attempt's time in
seconds, `webhook-signature` `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` under
the endpoint's secret. The body is the event's JSON (`WebhookEvent.payload`).

A 2xx marks the delivery `sent`, and it is never sent again: the claim lets one worker call,
and the claim timeout (`WEBHOOK_CLAIM_TIMEOUT`) is far longer than an attempt can last (its
connect and read timeouts). Any other answer, a timeout or a refused connection is a failed
attempt, retried after `WEBHOOK_RETRY_BACKOFF`, doubling, up to `WEBHOOK_MAX_ATTEMPTS`. An
address that may not be called, or an endpoint switched off, fails the delivery at once.
Only a worker that dies after the receiver answered 2xx and before the mark leaves a
delivery that goes out again, with the same `webhook-id`.
"""

import json
from datetime import UTC, datetime

from standardwebhooks import Webhook
from urllib3.exceptions import HTTPError

from core.outbox import Outbox, Outcome
from webhooks import outbound
from webhooks.models import WebhookDelivery

USER_AGENT = "CareSlot-Webhooks/1"
ERROR_BODY_SHOWN = 500  # characters of a refusing answer's body kept in `last_error`

outbox = Outbox(model=WebhookDelivery, status_field="status", settings_prefix="WEBHOOK")


def delivery_body(delivery: WebhookDelivery) -> str:
    return json.dumps(delivery.event.payload, separators=(",", ":"), sort_keys=True)


def delivery_headers(*, delivery: WebhookDelivery, body: str, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt at `at`."""
    message_id = str(delivery.event_id)
    signature = Webhook(delivery.endpoint.secret).sign(
        msg_id=message_id, timestamp=at.astimezone(UTC), data=body
    )
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }


def webhook_deliver(*, delivery_id) -> Outcome:
    """Call one endpoint with one event if the delivery is due and nobody else is calling;
    see the module's docstring. Safe to call any number of times, from any number of workers
    at once: at most one call is made per attempt, and none after a 2xx."""
    claim = outbox.claim(pk=delivery_id)
    if claim is None:
        return Outcome.SKIPPED
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    if not delivery.endpoint.is_active:
        return outbox.attempt_failed(
            row=delivery, claim=claim, error="The endpoint is not active.", give_up=True
        )
    body = delivery_body(delivery)
    headers = delivery_headers(delivery=delivery, body=body, at=datetime.now(tz=UTC))
    try:
        answer = outbound.post(url=delivery.endpoint.url, body=body.encode(), headers=headers)
    except outbound.AddressRefused as error:
        return outbox.attempt_failed(row=delivery, claim=claim, error=str(error), give_up=True)
    except (HTTPError, OSError) as error:
        return outbox.attempt_failed(
            row=delivery,
            claim=claim,
            error=f"{type(error).__name__}: {error}",
            response_status=None,
            response_time_ms=None,
        )
    if not 200 <= answer.status < 300:
        shown = answer.body[:ERROR_BODY_SHOWN].decode(errors="replace")
        redirect = " (redirects are not followed)" if 300 <= answer.status < 400 else ""
        return outbox.attempt_failed(
            row=delivery,
            claim=claim,
            error=f"HTTP {answer.status}{redirect}: {shown}",
            response_status=answer.status,
            response_time_ms=answer.elapsed_ms,
        )
    outbox.mark_sent(
        row=delivery,
        claim=claim,
        delivered_at=datetime.now(tz=UTC),
        response_status=answer.status,
        response_time_ms=answer.elapsed_ms,
    )
    return Outcome.SENT


def webhooks_relay(*, time_budget: float | None = None, limit: int | None = 1000) -> int:
    """Make every due delivery (oldest first), at most `limit` (None: all), starting none
    after `time_budget` seconds. Returns how many were sent."""
    return outbox.relay(
        lambda pk: webhook_deliver(delivery_id=pk), time_budget=time_budget, limit=limit
    )
