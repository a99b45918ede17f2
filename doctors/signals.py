"""Signals other apps may listen to without this app knowing them."""

from django.dispatch import Signal

# Sent, with `doctor=<Doctor>`, in the transaction of `doctor_unblacklist`, the doctor's row
# locked: their free slots may be booked again.
doctor_unblacklisted = Signal()
