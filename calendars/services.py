"""Writes of calendar feeds: making one (its secret shown once) and revoking it."""

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.services import audit_model_create, audit_record
from calendars.exceptions import CalendarFeedNotAllowed
from calendars.models import CalendarFeed


def calendar_token_hash(token: str) -> str:
    """What is stored of a feed's token, and what a request's token is looked up by."""
    return hashlib.sha256(token.encode()).hexdigest()


def calendar_feed_create(*, owner: User) -> tuple[CalendarFeed, str]:
    """Make a feed of `owner`'s appointments and return it with its token, which is never
    readable again: only its SHA-256 is stored.

    Rules: only doctors and patients have appointments of their own to publish. A person may
    hold several feeds (a phone and a desk calendar), each revoked on its own. The token is 256
    random bits. No locks: the row is new and refers to nothing that changes.
    """
    if not (owner.is_doctor or owner.is_patient):
        raise CalendarFeedNotAllowed()
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        feed = CalendarFeed.objects.create(owner=owner, token_hash=calendar_token_hash(token))
        audit_model_create(instance=feed, fields=["owner"])
    return feed, token


def calendar_feed_revoke(*, feed: CalendarFeed) -> CalendarFeed:
    """Close `feed`'s address for good. Revoking a revoked feed changes nothing.

    No lock: one conditional UPDATE decides which of two concurrent revocations did it, and
    only that one is audited.
    """
    now = timezone.now()
    with transaction.atomic():
        revoked = CalendarFeed.objects.filter(pk=feed.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
        if revoked:
            feed.revoked_at = now
            audit_record(action="revoke", target_type="calendarfeed", target_id=feed.pk)
    return feed
