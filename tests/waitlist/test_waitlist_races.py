"""The waitlist under real concurrency: threads with their own PostgreSQL connections,
released together. Whatever the interleaving, a slot has at most one open offer, an entry at
most one, a held slot is booked by its holder or nobody, and no freed slot that an entry
waits for is left without an offer."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db.models import Count, F

from appointments.models import ACTIVE_STATUSES, Appointment
from core.errors import DomainError
from notifications.models import Notification
from tests.concurrency import RunAfter, run_at_once, run_to_completion
from tests.factories import DoctorFactory, PatientFactory, in_future
from tests.schedule import slot_published, window_published
from tests.waitlist.world import booked, cancel, clinic_day, entry_for
from waitlist import services
from waitlist.models import OfferStatus, WaitlistEntry, WaitlistOffer
from waitlist.services import waitlist_offer_accept, waitlist_offers_expire

pytestmark = pytest.mark.django_db(transaction=True)


def outcome(call):
    """Run `call`, answering its domain error's code instead of raising it."""

    def run():
        try:
            call()
        except DomainError as error:
            return error.code
        return "ok"

    return run


def holds_are_sound() -> None:
    """No slot and no entry with two open offers, and no open offer on a booked slot."""
    open_offers = WaitlistOffer.objects.filter(status=OfferStatus.OPEN)
    assert not open_offers.values("slot").annotate(n=Count("pk")).filter(n__gt=1).exists()
    assert not open_offers.values("entry").annotate(n=Count("pk")).filter(n__gt=1).exists()
    assert not open_offers.filter(slot__is_booked=True).exists()


def test_a_direct_booker_never_takes_a_slot_held_for_the_holder():
    doctor = DoctorFactory(requires_approval=False)
    holder, booker = PatientFactory(), PatientFactory()
    refusals = Counter()
    for round_number in range(10):
        slot = slot_published(doctor, start=in_future(days=2 + round_number).replace(hour=10))
        appointment = booked(PatientFactory(), slot)
        entry_for(holder, doctor, day=clinic_day(slot.start))
        cancel(appointment)
        offer = WaitlistOffer.objects.get(slot=slot, status=OfferStatus.OPEN)
        results = run_at_once(
            [
                outcome(lambda s=slot: booked(booker, s)),
                outcome(lambda o=offer: waitlist_offer_accept(offer_id=o.pk, actor=holder.user)),
            ]
        )
        # Refused by the hold, or (once the holder's booking committed) as booked.
        assert results[0] in ("slot_held", "slot_unavailable"), results
        assert results[1] == "ok", results
        refusals[results[0]] += 1
        assert list(
            Appointment.objects.filter(slot=slot, status__in=ACTIVE_STATUSES).values_list(
                "patient", flat=True
            )
        ) == [holder.pk]
    assert not Appointment.objects.filter(patient=booker).exists()
    print(f"direct booker against holder, 10 rounds: {dict(refusals)}")


def test_two_slots_freed_at_once_for_one_entry_give_it_one_and_the_next_entry_the_other():
    doctor = DoctorFactory(requires_approval=False)
    for round_number in range(10):
        start = in_future(days=2 + round_number).replace(hour=9)
        window = window_published(doctor, start=start, hours=2)
        first, second = window.slots.order_by("start")
        appointments = [booked(PatientFactory(), first), booked(PatientFactory(), second)]
        early, late = PatientFactory(), PatientFactory()
        entry_for(early, doctor, day=clinic_day(start))
        entry_for(late, doctor, day=clinic_day(start))
        run_at_once([lambda a=a: cancel(a) for a in appointments])
        offers = WaitlistOffer.objects.filter(slot__window=window, status=OfferStatus.OPEN)
        assert sorted(offers.values_list("patient", flat=True)) == sorted([early.pk, late.pk])
        holds_are_sound()


def test_the_sweep_expiring_an_offer_while_its_patient_accepts_it_lets_one_of_them_win():
    doctor = DoctorFactory(requires_approval=False)
    wins = Counter()
    for round_number in range(20):
        slot = slot_published(doctor, start=in_future(days=2 + round_number).replace(hour=10))
        appointment = booked(PatientFactory(), slot)
        holder, next_in_line = PatientFactory(), PatientFactory()
        entry_for(holder, doctor, day=clinic_day(slot.start))
        entry_for(next_in_line, doctor, day=clinic_day(slot.start))
        cancel(appointment)
        offer = WaitlistOffer.objects.get(slot=slot, status=OfferStatus.OPEN)
        accepted, expired = run_at_once(
            [
                outcome(
                    lambda o=offer, h=holder: waitlist_offer_accept(offer_id=o.pk, actor=h.user)
                ),
                lambda o=offer: waitlist_offers_expire(now=o.expires_at),
            ]
        )
        offer.refresh_from_db()
        booked_for = list(
            Appointment.objects.filter(slot=slot, status__in=ACTIVE_STATUSES).values_list(
                "patient", flat=True
            )
        )
        if accepted == "ok":
            # The sweep found the slot locked and left it, or came after the acceptance.
            assert offer.status == OfferStatus.ACCEPTED
            assert booked_for == [holder.pk]
            assert not WaitlistOffer.objects.filter(slot=slot, status=OfferStatus.OPEN).exists()
        else:
            assert accepted == "offer_closed"
            assert offer.status == OfferStatus.EXPIRED
            assert expired == 1
            assert booked_for == []
            passed_on = WaitlistOffer.objects.get(slot=slot, status=OfferStatus.OPEN)
            assert passed_on.patient == next_in_line
        wins[accepted] += 1
        holds_are_sound()
    print(f"sweep against accept, 20 rounds: {dict(wins)}")


def test_the_sweep_expiring_an_offer_between_booking_and_marking_it_accepted_undoes_the_booking():
    """The interleaving the timing above may miss: a sweep, whose clock is past the offer's
    expiry, runs to completion right after the acceptance has booked and before it looks at
    the offer again. The sweep cannot take the slot (the booking holds it) and leaves the
    offer alone; the acceptance, inside the hold by its own clock, completes."""
    doctor = DoctorFactory(requires_approval=False)
    slot = slot_published(doctor, start=in_future(days=2).replace(hour=10))
    appointment = booked(PatientFactory(), slot)
    holder, next_in_line = PatientFactory(), PatientFactory()
    entry_for(holder, doctor, day=clinic_day(slot.start))
    entry_for(next_in_line, doctor, day=clinic_day(slot.start))
    cancel(appointment)
    offer = WaitlistOffer.objects.get(status=OfferStatus.OPEN)
    swept = []
    with RunAfter(
        services,
        "appointment_book",
        lambda: swept.append(
            run_to_completion(lambda: waitlist_offers_expire(now=offer.expires_at))
        ),
    ):
        result = outcome(lambda: waitlist_offer_accept(offer_id=offer.pk, actor=holder.user))()
    assert swept == [0]  # the slot was locked by the booking: left for the next run
    assert result == "ok"
    assert Appointment.objects.get(slot=slot, status__in=ACTIVE_STATUSES).patient == holder
    assert WaitlistOffer.objects.get(pk=offer.pk).status == OfferStatus.ACCEPTED
    assert waitlist_offers_expire(now=offer.expires_at + timedelta(minutes=1)) == 0
    holds_are_sound()


def test_two_sweeps_at_once_expire_each_offer_once_and_pass_it_on_once():
    doctor = DoctorFactory(requires_approval=False)
    start = in_future(days=3).replace(hour=8)
    window = window_published(doctor, start=start, hours=8)
    appointments = [booked(PatientFactory(), slot) for slot in window.slots.all()]
    waiting = PatientFactory.create_batch(16)
    for patient in waiting:
        entry_for(patient, doctor, day=clinic_day(start))
    for appointment in appointments:
        cancel(appointment)
    first_offers = list(WaitlistOffer.objects.filter(status=OfferStatus.OPEN))
    assert len(first_offers) == 8
    due = max(offer.expires_at for offer in first_offers)
    results = run_at_once([lambda: waitlist_offers_expire(now=due)] * 2)
    assert sum(results) == 8, results
    assert WaitlistOffer.objects.filter(status=OfferStatus.EXPIRED).count() == 8
    assert Notification.objects.filter(title="Your held slot has expired").count() == 8
    # Each slot passed on once, to an entry never offered it before.
    second = WaitlistOffer.objects.filter(status=OfferStatus.OPEN)
    assert second.count() == 8
    assert not second.filter(
        entry__offers__status=OfferStatus.EXPIRED, entry__offers__slot=F("slot")
    ).exists()
    holds_are_sound()


def test_fifty_cancellations_at_once_over_a_long_waitlist_hold_each_slot_once():
    doctor = DoctorFactory(requires_approval=False)
    start = in_future(days=3).replace(hour=0)
    slots = []
    for day in range(3):
        window = window_published(doctor, start=start + timedelta(days=day), hours=20)
        slots.extend(window.slots.order_by("start"))
    slots = slots[:50]
    appointments = [booked(PatientFactory(), slot) for slot in slots]
    waiting = PatientFactory.create_batch(80)
    for patient in waiting:
        entry_for(
            patient,
            doctor,
            day=clinic_day(slots[0].start),
            last_day=clinic_day(slots[-1].start),
        )
    run_at_once([lambda a=a: cancel(a) for a in appointments], workers=25)
    offers = WaitlistOffer.objects.filter(status=OfferStatus.OPEN)
    # Never two holds on one slot, never a hold lost: every freed slot is held, each for a
    # different entry, and those are the first fifty to join.
    assert offers.count() == 50
    assert set(offers.values_list("slot", flat=True)) == {slot.pk for slot in slots}
    first_fifty = WaitlistEntry.objects.order_by("created_at")[:50]
    assert set(offers.values_list("entry", flat=True)) == set(
        first_fifty.values_list("pk", flat=True)
    )
    holds_are_sound()
