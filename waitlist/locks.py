"""Locks on waitlist entries and offers. Their place in the one order every service locks in
(after slots and patients: entries, then offers), and the timeout every wait has, are in
`core.locks`."""

from uuid import UUID

from django.db.models import QuerySet

from core.locks import row_lock, row_lock_existing, row_lock_first_free, rows_lock
from waitlist.models import WaitlistEntry, WaitlistOffer


def entry_lock(*, entry_id: UUID) -> WaitlistEntry:
    """The entry, locked."""
    return row_lock_existing(WaitlistEntry.objects.filter(pk=entry_id))


def entry_lock_if_free(*, entry_id: UUID) -> WaitlistEntry | None:
    """The entry, locked, unless another transaction holds it (the sweep)."""
    return row_lock(WaitlistEntry.objects.filter(pk=entry_id), skip_locked=True)


def entry_lock_first_free(candidates: QuerySet[WaitlistEntry]) -> WaitlistEntry | None:
    """The first candidate by join time that no other transaction holds, locked: two slots
    freed at once go to two entries, neither waiting for the other's choice."""
    return row_lock_first_free(candidates, order_by=("created_at", "pk"))


def _offers_shown() -> QuerySet[WaitlistOffer]:
    # With what its notifications name: the slot's doctor and the patient.
    return WaitlistOffer.objects.select_related("slot__doctor__user", "patient__user")


def offer_lock(*, offer_id: UUID) -> WaitlistOffer:
    """The offer (with its slot and patient), locked."""
    return row_lock_existing(_offers_shown().filter(pk=offer_id))


def offer_lock_if_free(*, offer_id: UUID) -> WaitlistOffer | None:
    """The offer, locked, unless another transaction holds it (the sweep)."""
    return row_lock(_offers_shown().filter(pk=offer_id), skip_locked=True)


def entries_lock_free(entries: QuerySet[WaitlistEntry]) -> list[WaitlistEntry]:
    """Lock the entries no other transaction holds, in key order (the sweep)."""
    return rows_lock(entries, skip_locked=True)
