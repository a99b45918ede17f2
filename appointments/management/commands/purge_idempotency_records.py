from django.core.management.base import BaseCommand

from appointments.sweeps import idempotency_records_purge


class Command(BaseCommand):
    help = (
        "Delete the idempotency records of bookings older than IDEMPOTENCY_KEY_TTL, with the "
        "answers they kept (what beat runs hourly); safe to run twice at once."
    )

    def handle(self, *args, **options):
        purged = idempotency_records_purge()
        self.stdout.write(f"Purged {purged} expired idempotency record(s).")
