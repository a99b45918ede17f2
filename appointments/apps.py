from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "appointments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from appointments.receivers import penalty_email_sent_mark
        from notifications.signals import notification_sent

        notification_sent.connect(penalty_email_sent_mark, dispatch_uid="penalty-email-sent")
