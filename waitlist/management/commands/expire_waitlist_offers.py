from django.core.management.base import BaseCommand

from waitlist.services import waitlist_offers_expire


class Command(BaseCommand):
    help = (
        "Expire waitlist offers past their hold and pass each slot to the next entry waiting "
        "(what beat runs every minute); safe to run twice at once."
    )

    def handle(self, *args, **options):
        expired = waitlist_offers_expire()
        self.stdout.write(f"Expired {expired} waitlist offer(s).")
