"""Locks on waitlist entries and offers. Their place in the one order every service locks in
(after slots and patients: entries, then offers), and the timeout every wait has, are in
`core.locks`."""

from django.db.models import QuerySet

from core.locks import row_lock, row_lock_first_free, rows_lock
from waitlist.models import WaitlistEntry, WaitlistOffer


def entry_lock(*, entry_id, skip_locked: bool = False) -> WaitlistEntry | None:
    """The entry, locked (None if another transaction holds it and `skip_locked`)."""
    return row_lock(WaitlistEntry.objects.filter(pk=entry_id), skip_locked=skip_locked)


def entry_lock_first_free(candidates: QuerySet[WaitlistEntry]) -> WaitlistEntry | None:
    """The first candidate by join time that no other transaction holds, locked: two slots
    freed at once go to two entries, neither waiting for the other's choice."""
    return row_lock_first_free(candidates, order_by=("created_at", "pk"))


def offer_lock(*, offer_id, skip_locked: bool = False) -> WaitlistOffer | None:
    """The offer (with its slot and patient), locked."""
    return row_lock(
        WaitlistOffer.objects.select_related("slot__doctor__user", "patient__user").filter(
            pk=offer_id
        ),
        skip_locked=skip_locked,
    )


def entries_lock_free(entries: QuerySet[WaitlistEntry]) -> list[WaitlistEntry]:
    """Lock the entries no other transaction holds, in key order (the sweep)."""
    return rows_lock(entries, skip_locked=True)
