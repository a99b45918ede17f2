"""The waitlist through the API and the services: joining, offers of freed slots held for
the first matching entry, accepting, declining, withdrawing and the expiry sweep."""

from datetime import time, timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from appointments.models import Appointment, AppointmentStatus
from appointments.services import appointment_transition
from appointments.transitions import Action
from audit.models import AuditLog
from doctors.services import doctor_blacklist, doctor_unblacklist
from notifications.models import Notification, NotificationKind
from scheduling.services import time_off_create, time_off_delete
from tests.conftest import client_for
from tests.factories import AdminUserFactory, DoctorFactory, PatientFactory, in_future
from tests.schedule import slot_published, window_published
from tests.waitlist.world import booked, cancel, clinic_day, entry_for
from waitlist.models import EntryStatus, OfferStatus, WaitlistEntry, WaitlistOffer
from waitlist.services import waitlist_offers_expire

pytestmark = pytest.mark.django_db

WAITLIST = "/api/v1/waitlist/"
OFFERS = "/api/v1/waitlist/offers/"


def codes(response) -> list[str]:
    return [error["code"] for error in response.json()["errors"]]


@pytest.fixture
def doctor():
    return DoctorFactory(requires_approval=False)


@pytest.fixture
def slot(doctor):
    return slot_published(doctor, start=in_future(days=3).replace(hour=10))


@pytest.fixture
def freed(doctor, slot):
    """A booked slot and the waiting patient it will be offered to once it is cancelled."""
    holder = PatientFactory()
    entry_for(holder, doctor, day=clinic_day(slot.start))
    return holder, booked(PatientFactory(), slot)


# Joining --------------------------------------------------------------------------------


def test_a_patient_joins_for_a_doctor_and_sees_only_their_own_entries(doctor, slot):
    patient = PatientFactory()
    day = clinic_day(slot.start).isoformat()
    body = {"doctor": str(doctor.pk), "date_from": day, "date_to": day, "earliest_time": "08:00"}
    response = client_for(patient.user).post(WAITLIST, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "waiting"
    assert response.json()["patient"] == str(patient.pk)
    entry_for(PatientFactory(), doctor, day=clinic_day(slot.start))
    listed = client_for(patient.user).get(WAITLIST).json()["results"]
    assert [row["id"] for row in listed] == [response.json()["id"]]
    assert len(client_for(doctor.user).get(WAITLIST).json()["results"]) == 2
    assert AuditLog.objects.filter(target_type="waitlistentry", action="create").count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"specialization": "both"}, "doctor"),
        ({"doctor": None}, "doctor"),
        ({"date_to": "earlier"}, "date_to"),
        ({"earliest_time": "12:00", "latest_time": "11:00"}, "latest_time"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_a_bad_join_is_a_400_on_its_field_and_writes_nothing(doctor, slot, change, field):
    day = clinic_day(slot.start)
    body = {"doctor": str(doctor.pk), "date_from": day.isoformat(), "date_to": day.isoformat()}
    for key, value in change.items():
        if value == "both":
            value = doctor.specialization_id
        elif value == "earlier":
            value = (day - timedelta(days=1)).isoformat()
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    response = client_for(PatientFactory().user).post(WAITLIST, body, format="json")
    assert response.status_code == 400, response.json()
    assert [error["attr"] for error in response.json()["errors"]] == [field]
    assert not WaitlistEntry.objects.exists()


def test_doctors_may_not_join_and_admins_must_name_the_patient(doctor, slot):
    day = clinic_day(slot.start).isoformat()
    body = {"doctor": str(doctor.pk), "date_from": day, "date_to": day}
    assert client_for(doctor.user).post(WAITLIST, body, format="json").status_code == 403
    admin = client_for(AdminUserFactory())
    assert admin.post(WAITLIST, body, format="json").status_code == 400
    patient = PatientFactory()
    response = admin.post(WAITLIST, {**body, "patient": str(patient.pk)}, format="json")
    assert response.status_code == 201
    assert response.json()["patient"] == str(patient.pk)


def test_a_patient_waits_on_at_most_the_set_number_of_entries(doctor, slot, settings):
    settings.WAITLIST_MAX_ENTRIES_PER_PATIENT = 2
    patient = PatientFactory()
    day = clinic_day(slot.start).isoformat()
    body = {"doctor": str(doctor.pk), "date_from": day, "date_to": day}
    client = client_for(patient.user)
    assert [client.post(WAITLIST, body, format="json").status_code for _ in range(2)] == [201] * 2
    refused = client.post(WAITLIST, body, format="json")
    assert refused.status_code == 409
    assert codes(refused) == ["waitlist_limit_reached"]
    assert WaitlistEntry.objects.filter(patient=patient).count() == 2


# Offers -----------------------------------------------------------------------------------


def test_a_cancelled_slot_is_held_for_the_first_matching_entry_and_nobody_else(doctor, slot, freed):
    holder, appointment = freed
    later = PatientFactory()
    entry_for(later, doctor, day=clinic_day(slot.start))
    cancel(appointment)
    offer = WaitlistOffer.objects.get()
    assert (offer.patient, offer.slot, offer.status) == (holder, slot, OfferStatus.OPEN)
    hold = timedelta(minutes=15)
    assert timezone.now() + hold - timedelta(seconds=30) < offer.expires_at <= timezone.now() + hold
    # Not listed as free, and the database refuses anyone else's booking of it.
    slots = client_for(later.user).get("/api/v1/slots/", {"doctor": str(doctor.pk)}).json()
    assert str(slot.pk) not in [row["id"] for row in slots["results"]]
    refused = client_for(later.user).post("/api/v1/appointments/", {"slot": str(slot.pk)})
    assert refused.status_code == 409
    assert codes(refused) == ["slot_held"]
    # In-app and by email, in the holder's own time.
    told = Notification.objects.get(recipient=holder.user, kind=NotificationKind.WAITLIST_OFFER)
    assert "held for you" in told.body
    assert holder.user.time_zone in told.body
    assert AuditLog.objects.filter(target_type="waitlistoffer", action="create").count() == 1
    # The holder sees it and accepts: a normal booking.
    listed = client_for(holder.user).get(OFFERS).json()["results"]
    assert [(row["id"], row["status"]) for row in listed] == [(str(offer.pk), "open")]
    assert client_for(later.user).get(OFFERS).json()["results"] == []
    accepted = client_for(holder.user).post(f"{OFFERS}{offer.pk}/accept/")
    assert accepted.status_code == 201, accepted.json()
    assert accepted.json()["slot"] == str(slot.pk)
    assert accepted.json()["status"] == "confirmed"
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    assert offer.appointment_id is not None
    assert offer.entry.status == EntryStatus.BOOKED
    again = client_for(holder.user).post(f"{OFFERS}{offer.pk}/accept/")
    assert again.status_code == 409
    assert codes(again) == ["offer_closed"]


def test_the_database_refuses_another_patients_appointment_on_a_held_slot(doctor, slot, freed):
    _, appointment = freed
    cancel(appointment)
    with pytest.raises(IntegrityError, match="held for another patient"), transaction.atomic():
        Appointment.objects.create(
            patient=PatientFactory(), doctor=doctor, slot=slot, start=slot.start, end=slot.end
        )


def test_an_offer_goes_only_where_day_and_hours_fit(doctor, slot):
    day = clinic_day(slot.start)
    too_late = PatientFactory()
    entry_for(too_late, doctor, day=day, earliest=(slot.start + timedelta(hours=1)).time())
    other_day = PatientFactory()
    entry_for(other_day, doctor, day=day + timedelta(days=1))
    other_doctor = PatientFactory()
    entry_for(other_doctor, DoctorFactory(), day=day)
    fits = PatientFactory()
    entry_for(fits, doctor, day=day, earliest=time(0, 0), latest=time(23, 59))
    cancel(booked(PatientFactory(), slot))
    assert list(WaitlistOffer.objects.values_list("patient", flat=True)) == [fits.pk]


def test_a_specialization_entry_takes_a_slot_of_any_doctor_of_it(doctor, slot):
    patient = PatientFactory()
    client = client_for(patient.user)
    day = clinic_day(slot.start).isoformat()
    body = {"specialization": doctor.specialization_id, "date_from": day, "date_to": day}
    assert client.post(WAITLIST, body, format="json").status_code == 201
    cancel(booked(PatientFactory(), slot))
    assert WaitlistOffer.objects.get().patient == patient


def test_declining_passes_the_slot_to_the_next_entry(doctor, slot, freed):
    holder, appointment = freed
    second = PatientFactory()
    entry_for(second, doctor, day=clinic_day(slot.start))
    cancel(appointment)
    first_offer = WaitlistOffer.objects.get()
    response = client_for(holder.user).post(f"{OFFERS}{first_offer.pk}/decline/")
    assert response.status_code == 200
    assert response.json()["status"] == "declined"
    assert WaitlistOffer.objects.get(status=OfferStatus.OPEN).patient == second
    # The first entry keeps waiting, but is never offered this slot again.
    assert WaitlistEntry.objects.get(patient=holder).status == EntryStatus.WAITING
    again = client_for(holder.user).post(f"{OFFERS}{first_offer.pk}/decline/")
    assert again.status_code == 409
    assert codes(again) == ["offer_closed"]
    stranger = client_for(PatientFactory().user).post(f"{OFFERS}{first_offer.pk}/decline/")
    assert stranger.status_code == 404


def test_the_sweep_expires_an_offer_and_passes_its_slot_on(doctor, slot, freed):
    holder, appointment = freed
    second = PatientFactory()
    entry_for(second, doctor, day=clinic_day(slot.start))
    cancel(appointment)
    offer = WaitlistOffer.objects.get()
    call_command("expire_waitlist_offers")
    assert WaitlistOffer.objects.get(pk=offer.pk).status == OfferStatus.OPEN  # not due yet
    assert waitlist_offers_expire(now=offer.expires_at) == 1
    offer.refresh_from_db()
    assert offer.status == OfferStatus.EXPIRED
    assert WaitlistOffer.objects.get(status=OfferStatus.OPEN).patient == second
    assert Notification.objects.filter(recipient=holder.user, title__contains="expired").exists()
    late = client_for(holder.user).post(f"{OFFERS}{offer.pk}/accept/")
    assert late.status_code == 409
    assert codes(late) == ["offer_closed"]
    assert waitlist_offers_expire(now=offer.expires_at) == 0


def test_an_offer_past_its_time_cannot_be_accepted_before_the_sweep(doctor, slot, freed, settings):
    holder, appointment = freed
    settings.WAITLIST_HOLD_MINUTES = 0
    cancel(appointment)
    offer = WaitlistOffer.objects.get()
    late = client_for(holder.user).post(f"{OFFERS}{offer.pk}/accept/")
    assert late.status_code == 409
    assert codes(late) == ["offer_closed"]
    assert not Appointment.objects.filter(patient=holder).exists()


def test_withdrawing_an_entry_with_an_open_offer_passes_the_slot_on(doctor, slot, freed):
    holder, appointment = freed
    second = PatientFactory()
    entry_for(second, doctor, day=clinic_day(slot.start))
    cancel(appointment)
    entry = WaitlistEntry.objects.get(patient=holder)
    assert client_for(second.user).delete(f"{WAITLIST}{entry.pk}/").status_code == 404
    assert client_for(doctor.user).delete(f"{WAITLIST}{entry.pk}/").status_code == 403
    assert client_for(holder.user).delete(f"{WAITLIST}{entry.pk}/").status_code == 204
    entry.refresh_from_db()
    assert entry.status == EntryStatus.WITHDRAWN
    assert WaitlistOffer.objects.get(entry=entry).status == OfferStatus.DECLINED
    assert WaitlistOffer.objects.get(status=OfferStatus.OPEN).patient == second


def test_a_rejection_a_new_window_time_off_lifted_and_an_unblacklisting_make_offers(doctor):
    start = in_future(days=4).replace(hour=9)
    day = clinic_day(start)
    patients = PatientFactory.create_batch(4)
    for patient in patients[:3]:
        entry_for(patient, doctor, day=day)
    window = window_published(doctor, start=start, hours=1)  # new availability
    assert WaitlistOffer.objects.get(slot__window=window).patient == patients[0]
    pending_doctor = DoctorFactory(requires_approval=True)
    slot = slot_published(pending_doctor, start=start + timedelta(hours=2))
    appointment = booked(PatientFactory(), slot)
    entry_for(patients[3], pending_doctor, day=day)
    appointment_transition(
        appointment_id=appointment.pk, action=Action.REJECT, actor=pending_doctor.user
    )
    assert WaitlistOffer.objects.get(slot=slot, status=OfferStatus.OPEN).patient == patients[3]
    away = time_off_create(
        doctor=doctor, start=start + timedelta(hours=3), end=start + timedelta(hours=5)
    )
    covered = slot_published(doctor, start=start + timedelta(hours=3))
    assert not WaitlistOffer.objects.filter(slot=covered).exists()
    time_off_delete(time_off=away)
    assert WaitlistOffer.objects.get(slot=covered).patient == patients[1]
    doctor_blacklist(doctor=doctor, reason="Review")
    barred = slot_published(DoctorFactory(), start=start)  # another doctor: no entry for it
    assert not WaitlistOffer.objects.filter(slot=barred).exists()
    with_unblacklist = slot_published(doctor, start=start + timedelta(hours=6))
    assert not WaitlistOffer.objects.filter(slot=with_unblacklist).exists()
    doctor_unblacklist(doctor=doctor)
    assert WaitlistOffer.objects.get(slot=with_unblacklist).patient == patients[2]


def test_an_entry_past_its_expiry_gets_no_offer_and_the_sweep_marks_it(doctor, slot):
    patient = PatientFactory()
    entry = entry_for(patient, doctor, day=clinic_day(slot.start))
    WaitlistEntry.objects.filter(pk=entry.pk).update(expires_at=timezone.now())
    cancel(booked(PatientFactory(), slot))
    assert not WaitlistOffer.objects.exists()
    waitlist_offers_expire()
    entry.refresh_from_db()
    assert entry.status == EntryStatus.EXPIRED


def test_a_held_slot_can_be_booked_by_its_holder_and_a_busy_patient_is_passed_over(doctor, slot):
    busy = PatientFactory()
    entry_for(busy, doctor, day=clinic_day(slot.start))
    other_doctor = DoctorFactory(requires_approval=False)
    booked(busy, slot_published(other_doctor, start=slot.start))
    free = PatientFactory()
    entry_for(free, doctor, day=clinic_day(slot.start))
    cancel(booked(PatientFactory(), slot))
    offer = WaitlistOffer.objects.get()
    assert offer.patient == free
    appointment = booked(free, slot)
    assert appointment.status == AppointmentStatus.CONFIRMED
    # The sweep closes the hold as taken by that booking, and tells nobody it expired.
    assert waitlist_offers_expire(now=offer.expires_at) == 0
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    assert offer.appointment == appointment
    assert offer.entry.status == EntryStatus.BOOKED
    assert not Notification.objects.filter(title="Your held slot has expired").exists()
