import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.outbox import OutboxStatus


class NotificationKind(models.TextChoices):
    BOOKED = "booked", "Booked"
    STATUS_CHANGED = "status_changed", "Status changed"
    CANCELLED = "cancelled", "Cancelled"
    RESCHEDULED = "rescheduled", "Rescheduled"
    REMINDER = "reminder", "Reminder"
    NO_SHOW = "no_show", "No-show"
    LATE_CANCELLATION = "late_cancellation", "Late cancellation"
    WAITLIST_OFFER = "waitlist_offer", "Waitlist offer"


class Notification(models.Model):
    """A message to one user, shown in the app and sent by email: the outbox row.

    Written in the same transaction as the change it tells of, so it exists exactly when the
    change does; `notifications.delivery` then emails it once (`core.outbox`). `appointment_id`
    is a plain UUID rather than a foreign key, so that this app depends on no other.
    `dedupe_key` makes a message that must exist at most once (a reminder, a no-show email)
    unique.
    Bodies never carry protected health information: no reasons, diagnoses or notes.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    appointment_id = models.UUIDField(null=True, blank=True, db_index=True)
    title = models.CharField(max_length=200)
    body = models.TextField(max_length=4000)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=100, null=True, blank=True, unique=True)

    # Email delivery: pending -> sending (claimed by one worker) -> sent, or back to pending
    # with a later `next_attempt_at` after a failure, or failed after the last attempt.
    email_status = models.CharField(
        max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notifications_recipient_new"),
            # What the relay looks for: rows waiting for (another) attempt.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(email_status__in=["pending", "sending"]),
                name="notifications_undelivered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id} ({self.email_status})"
