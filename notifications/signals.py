"""Signals other apps may listen to without this app knowing them."""

from django.dispatch import Signal

# Sent, with `notification=<Notification>`, in the transaction that records its email as
# handed to the mail server: a receiver's writes commit together with that mark.
notification_sent = Signal()
