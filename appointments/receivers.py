"""What appointments does when other apps report something (connected in `apps.ready`)."""

from appointments.models import Penalty
from notifications.models import Notification, NotificationKind

PENALTY_EMAILS = frozenset({NotificationKind.NO_SHOW, NotificationKind.LATE_CANCELLATION})


def penalty_email_sent_mark(*, notification: Notification, **kwargs) -> None:
    """A penalty's email (a no-show, a late cancellation) was handed to the mail server: its
    penalty says so. Runs in the transaction that marks the notification sent, so the two
    never disagree."""
    if notification.kind in PENALTY_EMAILS and notification.appointment_id:
        Penalty.objects.filter(appointment_id=notification.appointment_id).update(email_sent=True)
