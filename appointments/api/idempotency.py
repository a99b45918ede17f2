"""`Idempotency-Key` on booking: a retry of the same request gets the first answer.

The key is claimed by inserting its row in the same transaction as the booking. A second
request with the key waits on the row's unique index until the first commits, then replays
the stored answer; if the first failed (its transaction rolled back), the key was never
claimed and the retry books afresh. Only successful answers are stored, so a client may
retry a refused booking with the same key once the cause is gone. A record older than
`IDEMPOTENCY_KEY_TTL` counts as never made: the request claiming its key deletes it, and the
purge (`appointments.sweeps.idempotency_records_purge`) deletes the rest.

A booking carries the reason for the visit, so the store keeps none of it in plaintext: the
answer is encrypted at rest (replayed exactly as first given, even if the appointment has
moved since), and the request is known only by a keyed hash. A plain hash would let anyone
holding the database confirm a guessed reason ("chest pain") for a booking, the rest of the
request (the slot) being in the appointments table beside it; a keyed one needs
`FIELD_ENCRYPTION_KEY` too.
"""

import json
import re
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.models import User
from appointments.exceptions import IdempotencyKeyReused
from appointments.models import IdempotencyRecord

MAX_KEY_LENGTH = 255
# Visible ASCII only: what an HTTP header carries unchanged (a UUID, say). The schema states the
# same pattern, so a key is refused exactly when the schema says it is malformed.
KEY_PATTERN = rf"^[!-~]{{1,{MAX_KEY_LENGTH}}}$"


def _request_hash(payload) -> str:
    """The request's fingerprint: an HMAC-SHA256 of its canonical JSON under the field
    encryption key, 64 hex digits."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return salted_hmac(
        "careslot.idempotency.request",
        canonical,
        secret=settings.FIELD_ENCRYPTION_KEY,
        algorithm="sha256",
    ).hexdigest()


def idempotent_response(
    *, user: User, key: str, payload, respond: Callable[[], Response]
) -> Response:
    """Answer with `respond()` once per (user, key, payload) within `IDEMPOTENCY_KEY_TTL`."""
    if not re.fullmatch(KEY_PATTERN, key):
        raise ValidationError(
            {
                "Idempotency-Key": [
                    f"Give a key of 1 to {MAX_KEY_LENGTH} visible ASCII characters, e.g. a UUID."
                ]
            }
        )
    request_hash = _request_hash(payload)
    now = timezone.now()
    with transaction.atomic():
        IdempotencyRecord.objects.filter(
            user=user, key=key, created_at__lt=now - settings.IDEMPOTENCY_KEY_TTL
        ).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user, key=key, request_hash=request_hash, created_at=now
                )
        except IntegrityError:
            record = None
        if record is None:
            first = IdempotencyRecord.objects.get(user=user, key=key)
            if first.request_hash != request_hash:
                raise IdempotencyKeyReused(attr=None)
            return Response(
                first.response_body,
                status=first.response_status,
                headers={"Idempotent-Replayed": "true"},
            )
        response = respond()
        record.response_status = response.status_code
        record.response_body = response.data
        record.save(update_fields=["response_status", "response_body"])
        return response
