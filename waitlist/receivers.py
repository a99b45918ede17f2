"""What the waitlist does when lower apps report freed slots (connected in `apps.ready`):
offer them, in the transaction that freed them. Those apps cannot call it themselves: the
waitlist sits above them (it books through appointments)."""

from django.utils import timezone

from doctors.models import Doctor
from scheduling.models import Slot
from waitlist.services import slots_offer


def opened_slots_offer(*, slot_ids, **kwargs) -> None:
    slots_offer(slot_ids=slot_ids)


def doctor_slots_offer(*, doctor: Doctor, **kwargs) -> None:
    """An unblacklisted doctor's future free slots may be booked again: offer them."""
    slots_offer(
        slot_ids=list(
            Slot.objects.filter(
                doctor=doctor, is_booked=False, start__gt=timezone.now()
            ).values_list("pk", flat=True)
        )
    )
