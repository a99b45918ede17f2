from django.core.management.base import BaseCommand

from appointments.sweeps import reminders_send


class Command(BaseCommand):
    help = (
        "Remind patients of confirmed appointments at each of their lead times "
        "(REMINDER_LEAD_TIMES), once each (what beat runs)."
    )

    def handle(self, *args, **options):
        written = reminders_send()
        self.stdout.write(f"Wrote {written} reminder(s).")
