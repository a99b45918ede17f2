import uuid

from django.conf import settings
from django.db import models


class CalendarFeed(models.Model):
    """A secret address at which a doctor's or a patient's calendar application reads their
    appointments (`GET /ics/{token}.ics`, no sign-in). The token is shown once, when the feed
    is made; only its SHA-256 is kept, so a copy of the database opens no one's calendar.
    Revoking keeps the row (for the audit log's sake) and closes the address for good."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["owner", "revoked_at"], name="calendars_feed_owner")]

    def __str__(self) -> str:
        state = "revoked" if self.revoked_at else "active"
        return f"Calendar feed of {self.owner_id} ({state})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
