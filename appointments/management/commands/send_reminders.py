from django.core.management.base import BaseCommand

from appointments.sweeps import reminders_send


class Command(BaseCommand):
    help = (
        "Remind patients of confirmed appointments starting within REMINDER_BEFORE, once each "
        "(what beat runs)."
    )

    def handle(self, *args, **options):
        written = reminders_send()
        self.stdout.write(f"Wrote {written} reminder(s).")
