"""Writes about the waitlist: joining and leaving it, offers of freed slots, their acceptance,
refusal and expiry.

An offer holds a free slot for one waiting patient for `WAITLIST_HOLD_MINUTES`. It is made
when a slot becomes free (`slots_offer`: an appointment called off or moved away, a new
window, time off or a holiday lifted, a doctor unblacklisted), inside the transaction that
freed it, and passes to the next entry when declined, withdrawn or expired. The first
matching entry by join time gets it.

Locking (`core.locks`): an offer is made, and its hold ended, only under its slot's row lock,
which every booking of the slot takes too; the entry to offer is chosen with `SKIP LOCKED`
(the first free one in join order), so choosing never waits and two slots freed at once go to
two entries. Accepting, declining, withdrawing and the expiry sweep take the slot, then the
entry, then the offer. The database has the last word: one open offer per slot and per entry,
one offer of a slot per entry, and another patient's booking of a held slot refused
(`waitlist_slot_held`, 409 `slot_held`).
"""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from appointments.exceptions import DoctorUnavailable, SlotHeld
from appointments.locks import patient_lock
from appointments.models import ACTIVE_STATUSES, Appointment
from appointments.services import appointment_book
from audit.services import audit_model_create, audit_model_update
from core.clinic_time import clinic_today, clinic_zone, day_start
from core.errors import FieldInvalid, Forbidden
from core.locks import locking_transaction
from doctors.models import Doctor, Specialization
from patients.models import Patient
from scheduling.locks import slot_lock, slot_lock_if_free, slots_lock
from scheduling.models import Slot
from scheduling.selectors import slot_list_free
from scheduling.services import schedule_reach_check
from waitlist import notify
from waitlist.exceptions import OfferClosed, WaitlistLimitReached
from waitlist.locks import (
    entries_lock_free,
    entry_lock,
    entry_lock_first_free,
    entry_lock_if_free,
    offer_lock,
    offer_lock_if_free,
)
from waitlist.models import EntryStatus, OfferStatus, WaitlistEntry, WaitlistOffer

ENTRY_FIELDS = [
    "patient",
    "doctor",
    "specialization",
    "date_from",
    "date_to",
    "earliest_time",
    "latest_time",
    "expires_at",
    "status",
]
OFFER_FIELDS = ["entry", "patient", "slot", "expires_at", "status"]


def _entries_waiting(*, now: datetime) -> QuerySet[WaitlistEntry]:
    return WaitlistEntry.objects.filter(status=EntryStatus.WAITING, expires_at__gt=now)


def waitlist_join(
    *,
    patient: Patient,
    doctor: Doctor | None = None,
    specialization: Specialization | None = None,
    date_from: date,
    date_to: date,
    earliest_time: time | None = None,
    latest_time: time | None = None,
    expires_at: datetime | None = None,
) -> WaitlistEntry:
    """Put a patient on the waitlist for a doctor or a specialization (exactly one: 400 on
    `doctor` otherwise), for slots starting on a clinic-local day from `date_from` to
    `date_to` (not passed, within the schedules' reach, in order: 400) and, when given, not
    before `earliest_time` and ending by `latest_time` (in order: 400). The entry is matched
    until `expires_at` (future: 400; by default the end of `date_to`). A blacklisted doctor
    takes no waitlist (409 `doctor_unavailable`). A patient holds at most
    `WAITLIST_MAX_ENTRIES_PER_PATIENT` waiting entries (409 `waitlist_limit_reached`),
    counted under the patient's row lock (`core.locks`), so two joins at once cannot both
    pass the limit.
    """
    if (doctor is None) == (specialization is None):
        raise FieldInvalid("Give either a doctor or a specialization.", attr="doctor")
    if date_to < date_from:
        raise FieldInvalid("date_to must not be before date_from.", attr="date_to")
    if date_to < clinic_today():
        raise FieldInvalid("That day has already passed.", attr="date_to")
    schedule_reach_check(day=date_to, attr="date_to")
    if earliest_time is not None and latest_time is not None and latest_time <= earliest_time:
        raise FieldInvalid("latest_time must be after earliest_time.", attr="latest_time")
    now = timezone.now()
    if expires_at is None:
        expires_at = day_start(date_to + timedelta(days=1))
    elif expires_at <= now:
        raise FieldInvalid("The entry would already have expired.", attr="expires_at")
    if doctor is not None and doctor.is_blacklisted:
        raise DoctorUnavailable()
    with locking_transaction():
        patient = patient_lock(patient_id=patient.pk)
        if (
            _entries_waiting(now=now).filter(patient=patient).count()
            >= settings.WAITLIST_MAX_ENTRIES_PER_PATIENT
        ):
            raise WaitlistLimitReached()
        entry = WaitlistEntry.objects.create(
            patient=patient,
            doctor=doctor,
            specialization=specialization,
            date_from=date_from,
            date_to=date_to,
            earliest_time=earliest_time,
            latest_time=latest_time,
            expires_at=expires_at,
        )
        audit_model_create(instance=entry, fields=ENTRY_FIELDS)
        return entry


def _candidates(*, slot: Slot, now: datetime) -> QuerySet[WaitlistEntry]:
    """The waiting entries `slot` would suit: its doctor or their specialization, its
    clinic-local day and times inside the entry's window; never an entry with an open offer,
    one already offered this slot, or one whose patient is busy then."""
    zone = clinic_zone()
    start, end = slot.start.astimezone(zone), slot.end.astimezone(zone)
    day = start.date()
    whom = Q(doctor_id=slot.doctor_id)
    if slot.doctor.specialization_id is not None:
        whom |= Q(specialization_id=slot.doctor.specialization_id)
    ends_in_time = Q(latest_time__isnull=True)
    if end.date() == day:  # a slot ending at midnight suits only an open-ended entry
        ends_in_time |= Q(latest_time__gte=end.time())
    busy = Appointment.objects.filter(
        patient_id=OuterRef("patient_id"),
        status__in=ACTIVE_STATUSES,
        start__lt=slot.end,
        end__gt=slot.start,
    )
    offered = WaitlistOffer.objects.filter(entry_id=OuterRef("pk")).filter(
        Q(status=OfferStatus.OPEN) | Q(slot_id=slot.pk)
    )
    return (
        _entries_waiting(now=now)
        .filter(whom, ends_in_time, date_from__lte=day, date_to__gte=day)
        .filter(Q(earliest_time__isnull=True) | Q(earliest_time__lte=start.time()))
        .filter(~Exists(busy), ~Exists(offered))
    )


def _slot_offer(*, slot: Slot, now: datetime) -> WaitlistOffer | None:
    """Offer `slot`, which the caller holds locked, to the first entry it suits, if it is
    free (`slot_list_free`, which also says that no offer holds it) and one waits. The entry
    is locked with SKIP LOCKED, then looked at again: an offer committed for it since this
    statement's snapshot is seen now, and the entry is passed over."""
    if not slot_list_free().filter(pk=slot.pk).exists():
        return None
    passed_over: list = []
    while True:
        entry = entry_lock_first_free(_candidates(slot=slot, now=now).exclude(pk__in=passed_over))
        if entry is None:
            return None
        if not WaitlistOffer.objects.filter(entry=entry, status=OfferStatus.OPEN).exists():
            break
        passed_over.append(entry.pk)
    offer = WaitlistOffer.objects.create(
        entry=entry,
        patient_id=entry.patient_id,
        slot=slot,
        expires_at=now + timedelta(minutes=settings.WAITLIST_HOLD_MINUTES),
    )
    audit_model_create(instance=offer, fields=OFFER_FIELDS, actor=None)
    notify.offer_notify(offer=offer)
    return offer


def slots_offer(*, slot_ids) -> list[WaitlistOffer]:
    """Offer each of these slots, just freed in the caller's transaction, to the waitlist
    (the receivers of `slots_opened` and `doctor_unblacklisted`). One query when nobody
    waits; otherwise the slots are locked (`core.locks`, key order; a caller that freed them
    holds them already) and offered in start order."""
    now = timezone.now()
    if not slot_ids or not _entries_waiting(now=now).exists():
        return []
    with locking_transaction():
        slots = slots_lock(Slot.objects.filter(pk__in=slot_ids).select_related("doctor"))
        offers = [_slot_offer(slot=slot, now=now) for slot in sorted(slots, key=lambda s: s.start)]
    return [offer for offer in offers if offer is not None]


def _offer_close(*, offer: WaitlistOffer, status: str, actor: User | None) -> None:
    offer.status = status
    offer.closed_at = timezone.now()
    offer.save(update_fields=["status", "closed_at", "appointment"])
    audit_model_update(
        instance=offer, before={"status": OfferStatus.OPEN, "appointment": None}, actor=actor
    )


def _offer_party_check(*, offer: WaitlistOffer, actor: User) -> None:
    if not actor.is_admin and actor.pk != offer.patient_id:
        raise Forbidden("Only the patient it is offered to may answer an offer.")


def _offer_open_check(*, offer: WaitlistOffer, now: datetime) -> None:
    if offer.status != OfferStatus.OPEN or offer.expires_at <= now:
        raise OfferClosed()


def _offer_accepted(
    *, offer: WaitlistOffer, entry: WaitlistEntry, appointment: Appointment, actor: User | None
) -> None:
    """Close the locked offer as `accepted` by `appointment`; its entry is `booked`."""
    offer.appointment = appointment
    _offer_close(offer=offer, status=OfferStatus.ACCEPTED, actor=actor)
    if entry.status == EntryStatus.WAITING:
        entry.status = EntryStatus.BOOKED
        entry.save(update_fields=["status"])
        audit_model_update(instance=entry, before={"status": EntryStatus.WAITING}, actor=actor)


def waitlist_offer_accept(*, offer_id, actor: User) -> Appointment:
    """Book the held slot for the offer's patient: `appointment_book`, with every one of its
    rules (the hold lets this patient, and nobody else, book the slot). The offer becomes
    `accepted` and its entry `booked`. Only the patient (or an admin; 403 otherwise), while
    the offer is open and not past `expires_at` (409 `offer_closed`).

    Locks (`core.locks`): the booking's (the doctor shared, the slot, the patient), then the
    entry and the offer, on which the offer is checked again: if the sweep expired it
    meanwhile, the booking is rolled back (409 `offer_closed`), and if the slot passed to
    another patient, the database refuses the booking, which also answers `offer_closed`.
    """
    offer = WaitlistOffer.objects.get(pk=offer_id)
    _offer_party_check(offer=offer, actor=actor)
    _offer_open_check(offer=offer, now=timezone.now())
    try:
        with locking_transaction():
            appointment = appointment_book(
                actor=actor, patient=offer.patient, slot_id=offer.slot_id
            )
            entry = entry_lock(entry_id=offer.entry_id)
            offer = offer_lock(offer_id=offer.pk)
            _offer_open_check(offer=offer, now=timezone.now())
            _offer_accepted(offer=offer, entry=entry, appointment=appointment, actor=actor)
            return appointment
    except SlotHeld as error:
        raise OfferClosed() from error


def waitlist_offer_decline(*, offer_id, actor: User) -> WaitlistOffer:
    """The patient (or an admin; 403 otherwise) turns an open offer down (409
    `offer_closed` once it is not): the hold ends and the slot passes to the next entry. The
    entry keeps waiting for other slots (this one is never offered to it again).

    Locks (`core.locks`): the slot, the entry, the offer (checked again under them)."""
    offer = WaitlistOffer.objects.get(pk=offer_id)
    _offer_party_check(offer=offer, actor=actor)
    if offer.status != OfferStatus.OPEN:
        raise OfferClosed()
    with locking_transaction():
        slot = slot_lock(slot_id=offer.slot_id)
        if slot is None:  # its window was removed, and the offer with it
            raise OfferClosed()
        entry_lock(entry_id=offer.entry_id)
        offer = offer_lock(offer_id=offer.pk)
        if offer.status != OfferStatus.OPEN:
            raise OfferClosed()
        _offer_close(offer=offer, status=OfferStatus.DECLINED, actor=actor)
        _slot_offer(slot=slot, now=timezone.now())
        return offer


def waitlist_entry_withdraw(*, entry_id, actor: User) -> None:
    """Leave the waitlist (the entry's patient, or an admin; 403 otherwise): the entry
    becomes `withdrawn` and an open offer of it is declined, its slot passing to the next
    entry. An entry that no longer waits (booked, expired, withdrawn) is left as it is.

    Locks (`core.locks`): the slot of the entry's open offer, if it has one, then the entry,
    then the offer. The offer is read before its slot is locked and again after the entry
    is: if it changed meanwhile (expired, and the entry offered another slot), the
    transaction ends and the next one starts over with the new offer's slot.
    """
    entry = WaitlistEntry.objects.get(pk=entry_id)
    if not actor.is_admin and actor.pk != entry.patient_id:
        raise Forbidden("Only the patient on the waitlist may take themselves off it.")
    while True:
        seen = WaitlistOffer.objects.filter(entry_id=entry_id, status=OfferStatus.OPEN).first()
        with locking_transaction():
            slot = slot_lock(slot_id=seen.slot_id) if seen else None
            entry = entry_lock(entry_id=entry_id)
            offer = WaitlistOffer.objects.filter(entry=entry, status=OfferStatus.OPEN).first()
            if (offer and offer.pk) != (seen and seen.pk):
                continue
            if entry.status != EntryStatus.WAITING:
                return
            entry.status = EntryStatus.WITHDRAWN
            entry.save(update_fields=["status"])
            audit_model_update(instance=entry, before={"status": EntryStatus.WAITING}, actor=actor)
            # An open offer's slot exists (removing a slot removes its offers).
            if offer is not None and slot is not None:
                offer = offer_lock(offer_id=offer.pk)
                _offer_close(offer=offer, status=OfferStatus.DECLINED, actor=actor)
                _slot_offer(slot=slot, now=timezone.now())
            return


def waitlist_offers_expire(*, now: datetime | None = None) -> int:
    """Expire the open offers past `expires_at` and pass each slot to the next entry (the
    `expire_waitlist_offers` command and the beat, every minute); then mark entries past
    their own `expires_at`, with no open offer, `expired`. Returns how many offers expired.
    An offer whose patient booked its slot directly (`POST /appointments/`; the hold lets
    them) is closed as `accepted` by that booking instead.

    Safe to run twice at once: each offer in its own transaction, which locks its slot with
    SKIP LOCKED (a slot being booked, accepted or declined is left for the next run), then
    the entry and the offer, also SKIP LOCKED, and checks that the offer is still open and
    due. A second sweep skips what the first holds and finds what it finished no longer due.
    """
    now = now or timezone.now()
    due = WaitlistOffer.objects.filter(status=OfferStatus.OPEN, expires_at__lte=now)
    expired = 0
    for offer_id, slot_id, entry_id in due.order_by("expires_at", "pk").values_list(
        "pk", "slot_id", "entry_id"
    ):
        with locking_transaction():
            slot = slot_lock_if_free(slot_id=slot_id)
            entry = entry_lock_if_free(entry_id=entry_id) if slot is not None else None
            if slot is None or entry is None:
                continue
            offer = offer_lock_if_free(offer_id=offer_id)
            if offer is None or offer.status != OfferStatus.OPEN or offer.expires_at > now:
                continue
            # The holder may have booked the slot directly rather than through the offer.
            booked = Appointment.objects.filter(
                slot=slot, patient_id=offer.patient_id, status__in=ACTIVE_STATUSES
            ).first()
            if booked is not None:
                _offer_accepted(offer=offer, entry=entry, appointment=booked, actor=None)
                continue
            _offer_close(offer=offer, status=OfferStatus.EXPIRED, actor=None)
            notify.offer_expired_notify(offer=offer)
            _slot_offer(slot=slot, now=now)
            expired += 1
    _entries_expire(now=now)
    return expired


def _entries_expire(*, now: datetime) -> None:
    """Entries past their `expires_at` stop waiting (one with an open offer keeps it until
    it is answered or expires). Rows another transaction holds are left for the next run."""
    stale = WaitlistEntry.objects.filter(status=EntryStatus.WAITING, expires_at__lte=now).exclude(
        offers__status=OfferStatus.OPEN
    )
    with locking_transaction():
        for entry in entries_lock_free(stale):
            entry.status = EntryStatus.EXPIRED
            entry.save(update_fields=["status"])
            audit_model_update(instance=entry, before={"status": EntryStatus.WAITING}, actor=None)
