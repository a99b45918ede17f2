"""Reads of calendar feeds and of what a feed shows."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Max, Q, QuerySet
from django.db.models.functions import Coalesce, Greatest

from accounts.models import User
from appointments.models import Appointment
from appointments.transitions import CALLED_OFF
from calendars.models import CalendarFeed
from calendars.services import calendar_token_hash


def calendar_feed_list_visible(*, user: User) -> QuerySet[CalendarFeed]:
    """Feeds still open: a doctor's or a patient's own, every one for an admin (who may revoke
    a leaked one)."""
    feeds = CalendarFeed.objects.filter(revoked_at__isnull=True)
    if user.is_admin:
        return feeds
    return feeds.filter(owner=user)


def calendar_feed_owner(*, token: str) -> User | None:
    """The active account whose open feed `token` is, or None."""
    feed = (
        CalendarFeed.objects.select_related("owner")
        .filter(token_hash=calendar_token_hash(token), revoked_at__isnull=True)
        .first()
    )
    if feed is None or not feed.owner.is_active:
        return None
    return feed.owner


def calendar_feed_appointments(*, owner: User, now: datetime) -> QuerySet[Appointment, Any]:
    """What `owner`'s feed shows, as plain rows, one query: their appointments starting after
    `now - CALENDAR_FEED_RECENT`, except those called off (cancelled, rejected, rescheduled)
    before that. Those called off since are shown cancelled, so that a calendar application
    holding the event marks it so rather than keeping it. Each row has `sequence` (how many
    times its status moved: the iCalendar SEQUENCE), `changed_at` (its last move) and
    `other_first_name`/`other_last_name` (the doctor for a patient's feed, the patient for a
    doctor's). No clinical text is read."""
    if owner.is_doctor:
        appointments = Appointment.objects.filter(doctor_id=owner.pk)
        other = "patient__user"
    elif owner.is_patient:
        appointments = Appointment.objects.filter(patient_id=owner.pk)
        other = "doctor__user"
    else:
        return Appointment.objects.none().values()
    since = now - settings.CALENDAR_FEED_RECENT
    return (
        appointments.filter(start__gte=since)
        .annotate(
            # A row written without its booking's history (imported) counts from zero.
            sequence=Greatest(Count("history") - 1, 0),
            changed_at=Coalesce(Max("history__at"), "created_at"),
        )
        .filter(~Q(status__in=CALLED_OFF) | Q(changed_at__gte=since))
        .values(
            "id",
            "start",
            "end",
            "status",
            "created_at",
            "sequence",
            "changed_at",
            other_first_name=F(f"{other}__first_name"),
            other_last_name=F(f"{other}__last_name"),
        )
        .order_by("start", "id")
    )
