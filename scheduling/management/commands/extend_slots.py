from django.core.management.base import BaseCommand

from scheduling.services import horizon_last_day, slots_extend


class Command(BaseCommand):
    help = "Generate weekly-rule slots through the booking horizon (idempotent)."

    def handle(self, *args, **options):
        made = slots_extend()
        self.stdout.write(
            f"Made {made} window(s); rules are generated through {horizon_last_day()}."
        )
