"""What a waitlisted patient is told, written into the outbox
(`notifications.services.notification_create`) in the caller's transaction: a slot held for
them, and that hold running out. Times in the reader's zone, named; never clinical text."""

from appointments.notify import reader_time
from notifications.models import NotificationKind
from notifications.services import notification_create
from waitlist.models import WaitlistOffer


def _doctor_name(offer: WaitlistOffer) -> str:
    user = offer.slot.doctor.user
    return f"Dr {user.get_full_name() or user.username}"


def offer_notify(*, offer: WaitlistOffer) -> None:
    """A slot is held for the patient: which, and until when to accept it."""
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
