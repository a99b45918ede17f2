"""Signals other apps may listen to without this app knowing them."""

from django.dispatch import Signal

# Sent, with `user=<User>`, in the transaction in which staff re-activate an account in the
# admin site (`user_save`): an app whose own records bar the account (a blacklisted doctor)
# lifts that bar through its own service, in that transaction.
account_reactivated = Signal()
