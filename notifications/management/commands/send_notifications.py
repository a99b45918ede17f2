from django.core.management.base import BaseCommand

from notifications.delivery import notifications_relay


class Command(BaseCommand):
    help = "Email every notification that is waiting (what the beat relay does); idempotent."

    def handle(self, *args, **options):
        sent = notifications_relay(limit=None)
        self.stdout.write(f"Sent {sent} notification email(s).")
