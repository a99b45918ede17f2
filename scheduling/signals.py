"""Signals other apps may listen to without this app knowing them."""

from django.dispatch import Signal

# Sent, with `slot_ids=[...]`, in the transaction in which slots become free to book: new
# availability (a window, a weekly rule's days), time off or a holiday lifted, an appointment
# called off (appointments). A listener may offer them (the waitlist); it runs inside the
# sender's transaction, after the sender's locks (`core.locks`).
slots_opened = Signal()
