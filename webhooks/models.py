"""Webhooks: the endpoints admins register, the events the clinic's changes emit, and one
delivery (an outbox row, `core.outbox`) per event and subscribed endpoint."""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_cryptography.fields import encrypt

from core.outbox import OutboxStatus


class EventType(models.TextChoices):
    APPOINTMENT_BOOKED = "appointment.booked", "Appointment booked"
    APPOINTMENT_CONFIRMED = "appointment.confirmed", "Appointment confirmed"
    APPOINTMENT_REJECTED = "appointment.rejected", "Appointment rejected"
    APPOINTMENT_CANCELLED = "appointment.cancelled", "Appointment cancelled"
    APPOINTMENT_RESCHEDULED = "appointment.rescheduled", "Appointment rescheduled"
    APPOINTMENT_COMPLETED = "appointment.completed", "Appointment completed"
    APPOINTMENT_NO_SHOW = "appointment.no_show", "Appointment no-show"
    PENALTY_CREATED = "penalty.created", "Penalty created"
    WAITLIST_OFFER = "waitlist.offer", "Waitlist offer"


class WebhookEndpoint(models.Model):
    """A URL that wants some event types, signed with its own secret (Standard Webhooks:
    `whsec_` and the base64 of 24 to 64 random bytes). The secret is needed to sign, so it is
    kept, encrypted at rest, and never shown again."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    url = models.URLField(max_length=500)
    events = ArrayField(models.CharField(max_length=32, choices=EventType.choices))
    secret = encrypt(models.CharField(max_length=200))
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.url


class WebhookEvent(models.Model):
    """One change, as subscribers are told of it: written in the changing transaction (only
    when some active endpoint wants its type). `data` holds ids, statuses, times and links,
    never clinical text or insurance data. Its id is the `webhook-id` of every delivery of it,
    so a receiver can tell a redelivery from a new event."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=32, choices=EventType.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField()

    class Meta:
        ordering = ["-occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.type} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"

    @property
    def payload(self) -> dict:
        return {
            "type": self.type,
            "id": str(self.id),
            "occurred_at": self.occurred_at.isoformat().replace("+00:00", "Z"),
            "data": self.data,
        }


class WebhookDelivery(models.Model):
    """One event to one endpoint: pending -> sending (claimed by one worker) -> sent (a 2xx),
    or back to pending with a later `next_attempt_at` after a failure, or failed after the
    last attempt. The log of it: `attempts`, `last_error`, and the last answer's status and
    time. A manual redelivery is a new row (`redelivery_of` the one it repeats)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    redelivery_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="redeliveries"
    )
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_time_ms = models.PositiveIntegerField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhooks_endpoint_new"),
            # What the relay looks for: rows waiting for (another) attempt.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="webhooks_undelivered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} to {self.endpoint_id} ({self.status})"
