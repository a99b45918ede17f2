"""What appointments does when other apps report something (connected in `apps.ready`)."""

from appointments.models import Penalty
from notifications.models import Notification, NotificationKind


def penalty_email_sent_mark(*, notification: Notification, **kwargs) -> None:
    """A no-show email was handed to the mail server: its penalty says so. Runs in the
    transaction that marks the notification sent, so the two never disagree."""
    if notification.kind == NotificationKind.NO_SHOW and notification.appointment_id:
        Penalty.objects.filter(appointment_id=notification.appointment_id).update(email_sent=True)
