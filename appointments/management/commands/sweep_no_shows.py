from django.core.management.base import BaseCommand

from appointments.sweeps import no_show_sweep


class Command(BaseCommand):
    help = (
        "Mark confirmed appointments ended more than NO_SHOW_GRACE ago as no-shows, and cancel "
        "pending ones whose start has passed (what beat runs); safe to run twice at once."
    )

    def handle(self, *args, **options):
        result = no_show_sweep()
        self.stdout.write(
            f"Marked {result.no_shows} no-show(s); cancelled {result.cancelled} appointment(s) "
            "not confirmed in time."
        )
