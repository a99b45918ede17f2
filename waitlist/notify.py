"""What a waitlisted patient is told, written into the outbox
(`notifications.services.notification_create`) in the caller's transaction: a slot held for
them, and that hold running out. Times in the reader's zone, named; never clinical text. A
new offer is also a `waitlist.offer` webhook event."""

from django.conf import settings
from django.urls import reverse

from appointments.notify import instant_text, reader_time
from notifications.models import NotificationKind
from notifications.services import notification_create
from waitlist.models import WaitlistOffer
from webhooks.models import EventType
from webhooks.services import webhook_event_emit


def _doctor_name(offer: WaitlistOffer) -> str:
    user = offer.slot.doctor.user
    return f"Dr {user.get_full_name() or user.username}"


def _offer_link() -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("waitlist-offer-list")


def offer_notify(*, offer: WaitlistOffer) -> None:
    """A slot is held for the patient: which, and until when to accept it; and the
    subscribers of `waitlist.offer` (ids and times, no clinical text)."""
    webhook_event_emit(
        type=EventType.WAITLIST_OFFER,
        data={
            "offer": {
                "id": str(offer.pk),
                "entry": str(offer.entry_id),
                "patient": str(offer.patient_id),
                "doctor": str(offer.slot.doctor_id),
                "slot": str(offer.slot_id),
                "start": instant_text(offer.slot.start),
                "end": instant_text(offer.slot.end),
                "expires_at": instant_text(offer.expires_at),
                "status": offer.status,
                "links": {"offers": _offer_link()},
            }
        },
    )
    reader = offer.patient.user
    notification_create(
        recipient=reader,
        kind=NotificationKind.WAITLIST_OFFER,
        appointment_id=None,
        title="A slot from the waitlist is held for you",
        body=f"A slot with {_doctor_name(offer)} on {reader_time(offer.slot.start, reader)} is "
        f"held for you until {reader_time(offer.expires_at, reader)}. Accept it in the app to "
        "book it; after that it goes to the next patient waiting.",
    )


def offer_expired_notify(*, offer: WaitlistOffer) -> None:
    """The hold ran out unanswered; the patient stays on the waitlist."""
    reader = offer.patient.user
    notification_create(
        recipient=reader,
        kind=NotificationKind.WAITLIST_OFFER,
        appointment_id=None,
        title="Your held slot has expired",
        body=f"The slot with {_doctor_name(offer)} on {reader_time(offer.slot.start, reader)} "
        "was not accepted in time and went to the next patient waiting. You stay on the "
        "waitlist for other slots.",
    )
