from django.core.management.base import BaseCommand

from webhooks.delivery import webhooks_relay


class Command(BaseCommand):
    help = "Make every webhook delivery that is due (what the beat relay does); idempotent."

    def handle(self, *args, **options):
        sent = webhooks_relay(limit=None)
        self.stdout.write(f"Made {sent} webhook delivery(ies).")
