"""Shared reads about the waitlist."""

from collections.abc import Collection
from uuid import UUID

from django.db.models import Q, QuerySet

from accounts.models import User
from waitlist.models import OfferStatus, WaitlistEntry, WaitlistOffer


def entry_list_visible(*, user: User) -> QuerySet[WaitlistEntry]:
    """A patient's own entries; a doctor's, those waiting for them or for their
    specialization; all for an admin."""
    entries = WaitlistEntry.objects.all()
    if user.is_admin:
        return entries
    if user.is_patient:
        return entries.filter(patient_id=user.pk)
    if user.is_doctor:
        mine = Q(doctor_id=user.pk)
        specialization_id = user.doctor.specialization_id
        if specialization_id is not None:
            mine |= Q(specialization_id=specialization_id)
        return entries.filter(mine)
    return entries.none()


def offer_list_visible(*, user: User) -> QuerySet[WaitlistOffer]:
    """A patient's own offers; a doctor's, those of their slots; all for an admin."""
    offers = WaitlistOffer.objects.select_related("slot")
    if user.is_admin:
        return offers
    if user.is_patient:
        return offers.filter(patient_id=user.pk)
    if user.is_doctor:
        return offers.filter(slot__doctor_id=user.pk)
    return offers.none()


def offer_holding(*, slot_ids: Collection[UUID]) -> dict[UUID, WaitlistOffer]:
    """The open offer holding each of these slots (those held), with its patient: one query."""
    offers = WaitlistOffer.objects.filter(slot_id__in=slot_ids, status=OfferStatus.OPEN)
    return {offer.slot_id: offer for offer in offers.select_related("patient__user")}
