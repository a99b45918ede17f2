"""Every path that books or moves an appointment, or creates a penalty (the API, the admin
site, the sweeps, a blacklisting), writes exactly one webhook event per change, in the
changing transaction, and its data carry no clinical text."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment
from appointments.services import appointment_book
from appointments.sweeps import no_show_sweep
from core.clinic_time import clinic_zone
from doctors.services import doctor_blacklist
from scheduling.models import AvailabilityWindow, Slot
from tests.conftest import client_for
from tests.factories import AppointmentFactory, DoctorFactory, PatientFactory, in_future
from tests.schedule import slot_published
from tests.waitlist.world import entry_for
from tests.webhooks.receiver import SECRET
from waitlist.models import WaitlistOffer
from webhooks.models import EventType, WebhookDelivery, WebhookEvent
from webhooks.services import webhook_endpoint_create

pytestmark = pytest.mark.django_db

CLINICAL = "Persistent cough since March"


@pytest.fixture
def endpoint():
    return webhook_endpoint_create(
        url="https://ehr.example.org/hooks", events=list(EventType.values), secret=SECRET
    )


@pytest.fixture
def parties():
    doctor = DoctorFactory(requires_approval=True)
    return PatientFactory(), doctor


def events_after(mark) -> list[tuple[str, str]]:
    """(type, appointment id) of the events written since `mark` (a set of event ids)."""
    return [
        (event.type, event.data["appointment"]["id"])
        for event in WebhookEvent.objects.exclude(pk__in=mark).order_by("occurred_at", "id")
    ]


def mark() -> set:
    return set(WebhookEvent.objects.values_list("pk", flat=True))


def ended(doctor, patient, *, hours_ago=3, status="confirmed"):
    start = timezone.now().replace(microsecond=0) - timedelta(hours=hours_ago)
    window = AvailabilityWindow.objects.create(
        doctor=doctor, start=start, end=start + timedelta(hours=1)
    )
    slot = Slot.objects.create(doctor=doctor, window=window, start=window.start, end=window.end)
    return AppointmentFactory(doctor=doctor, patient=patient, slot=slot, status=status)


def booked(patient, doctor, days=3) -> Appointment:
    slot = slot_published(doctor, start=in_future(days=days).replace(hour=9))
    return appointment_book(actor=patient.user, patient=patient, slot_id=slot.pk, reason=CLINICAL)


class TestTheApi:
    def test_booking_and_every_move(self, endpoint, parties, admin_user):
        patient, doctor = parties
        as_patient, as_doctor = client_for(patient.user), client_for(doctor.user)
        url = "/api/v1/appointments/"

        before = mark()
        slot = slot_published(doctor, start=in_future(days=3).replace(hour=9))
        response = as_patient.post(url, {"slot": str(slot.pk), "reason": CLINICAL})
        assert response.status_code == 201
        first = response.json()["id"]
        assert events_after(before) == [("appointment.booked", first)]

        before = mark()
        assert as_doctor.post(f"{url}{first}/confirm/").status_code == 200
        assert events_after(before) == [("appointment.confirmed", first)]

        before = mark()
        other = slot_published(doctor, start=in_future(days=4).replace(hour=9))
        response = as_patient.post(f"{url}{first}/reschedule/", {"slot": str(other.pk)})
        assert response.status_code == 201
        second = response.json()["id"]
        assert events_after(before) == [
            ("appointment.rescheduled", first),
            ("appointment.booked", second),
        ]
        assert WebhookEvent.objects.get(type="appointment.booked", data__appointment__id=second)

        before = mark()
        assert as_patient.post(f"{url}{second}/cancel/").status_code == 200
        assert events_after(before) == [("appointment.cancelled", second)]

        pending = booked(patient, doctor, days=5)
        before = mark()
        response = as_doctor.post(f"{url}{pending.pk}/reject/", {"reason": CLINICAL})
        assert response.status_code == 200
        assert events_after(before) == [("appointment.rejected", str(pending.pk))]

        done = ended(doctor, patient)
        before = mark()
        response = as_doctor.post(
            f"{url}{done.pk}/complete/", {"diagnosis": CLINICAL, "treatment_notes": CLINICAL}
        )
        assert response.status_code == 200
        assert events_after(before) == [("appointment.completed", str(done.pk))]

        missed = ended(doctor, patient, hours_ago=6)
        before = mark()
        assert as_doctor.post(f"{url}{missed.pk}/no-show/").status_code == 200
        assert events_after(before) == [
            ("appointment.no_show", str(missed.pk)),
            ("penalty.created", str(missed.pk)),
        ]

        everything = json.dumps(list(WebhookEvent.objects.values_list("data", flat=True)))
        assert CLINICAL not in everything
        # One delivery per event to the one endpoint.
        assert WebhookDelivery.objects.count() == WebhookEvent.objects.count() == 10

    def test_an_admin_override_booking(self, endpoint, parties, admin_user):
        patient, doctor = parties
        start = in_future(days=6).replace(hour=7, minute=0, second=0, microsecond=0)
        before = mark()
        response = client_for(admin_user).post(
            "/api/v1/appointments/",
            {
                "override": True,
                "patient": str(patient.pk),
                "doctor": str(doctor.pk),
                "start": start.isoformat(),
                "end": (start + timedelta(minutes=30)).isoformat(),
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        assert events_after(before) == [("appointment.booked", response.json()["id"])]

    def test_blacklisting_cancels_each_upcoming_appointment_once(self, endpoint, admin_user):
        doctor = DoctorFactory(requires_approval=False)
        first, second = booked(PatientFactory(), doctor), booked(PatientFactory(), doctor, 4)
        before = mark()
        response = client_for(admin_user).post(
            f"/api/v1/doctors/{doctor.pk}/blacklist/",
            {"reason": "Licence review", "cancel_upcoming": True},
        )
        assert response.status_code == 200
        assert sorted(events_after(before)) == sorted(
            [("appointment.cancelled", str(first.pk)), ("appointment.cancelled", str(second.pk))]
        )

    def test_a_refused_move_writes_nothing(self, endpoint, parties):
        patient, doctor = parties
        appointment = booked(patient, doctor)
        before = mark()
        response = client_for(patient.user).post(f"/api/v1/appointments/{appointment.pk}/confirm/")
        assert response.status_code == 403
        assert events_after(before) == []


class TestTheAdminSite:
    @pytest.fixture
    def staff(self, client, admin_user):
        client.force_login(admin_user)
        return client

    def act(self, staff, action: str, rows) -> None:
        response = staff.post(
            reverse("admin:appointments_appointment_changelist"),
            {"action": action, "_selected_action": [str(row.pk) for row in rows]},
        )
        assert response.status_code == 302

    def test_booking_and_the_actions(self, endpoint, parties, staff):
        patient, doctor = parties
        slot = slot_published(doctor)
        before = mark()
        response = staff.post(
            reverse("admin:appointments_appointment_add"),
            {"patient": str(patient.pk), "slot": str(slot.pk), "reason": CLINICAL},
        )
        assert response.status_code == 302, response.content[:500]
        appointment = Appointment.objects.get(slot=slot)
        assert events_after(before) == [("appointment.booked", str(appointment.pk))]

        for action, event in [("confirm", "confirmed"), ("cancel", "cancelled")]:
            before = mark()
            self.act(staff, action, [appointment])
            assert events_after(before) == [(f"appointment.{event}", str(appointment.pk))]

        pending = booked(patient, doctor, days=5)
        before = mark()
        self.act(staff, "reject", [pending])
        assert events_after(before) == [("appointment.rejected", str(pending.pk))]

        missed = ended(doctor, patient)
        before = mark()
        self.act(staff, "no_show", [missed])
        assert events_after(before) == [
            ("appointment.no_show", str(missed.pk)),
            ("penalty.created", str(missed.pk)),
        ]

    def test_the_day_board(self, endpoint, parties, staff):
        patient, doctor = parties
        slot = slot_published(doctor)
        day = slot.start.astimezone(clinic_zone()).date().isoformat()
        board = reverse("admin:day_board")
        before = mark()
        response = staff.post(
            board, {"date": day, "slot": str(slot.pk), "patient": patient.user.username}
        )
        assert response.status_code == 302
        appointment = Appointment.objects.get(slot=slot)
        assert events_after(before) == [("appointment.booked", str(appointment.pk))]

        for action, event in [("confirm", "confirmed"), ("cancel", "cancelled")]:
            before = mark()
            response = staff.post(
                board, {"date": day, "appointment": str(appointment.pk), "action": action}
            )
            assert response.status_code == 302
            assert events_after(before) == [(f"appointment.{event}", str(appointment.pk))]


def test_a_late_cancellation_where_the_clinic_penalises_it(endpoint, parties, settings):
    settings.LATE_CANCELLATION_POLICY = "penalise"
    patient, doctor = parties
    doctor.cancel_cutoff = timedelta(hours=24)
    doctor.save()
    appointment = booked(patient, doctor)
    client_for(doctor.user).post(f"/api/v1/appointments/{appointment.pk}/confirm/")

    before = mark()
    with time_machine.travel(appointment.start - timedelta(hours=2), tick=False):
        response = client_for(patient.user).post(f"/api/v1/appointments/{appointment.pk}/cancel/")
    assert response.status_code == 200
    # Time stands still here: the two events' order is not the test's to see.
    assert sorted(events_after(before)) == [
        ("appointment.cancelled", str(appointment.pk)),
        ("penalty.created", str(appointment.pk)),
    ]
    penalty = WebhookEvent.objects.get(type="penalty.created").data["penalty"]
    assert penalty["kind"] == "late_cancellation"


class TestTheSweeps:
    def test_no_shows_withdrawals_and_expiries(self, endpoint, parties):
        patient, doctor = parties
        missed = ended(doctor, patient, hours_ago=5)
        unconfirmed = ended(doctor, patient, hours_ago=8, status="pending")
        barred_doctor = DoctorFactory()
        withdrawn = ended(barred_doctor, PatientFactory(), hours_ago=3)
        doctor_blacklist(doctor=barred_doctor, reason="Review")
        barred_doctor.refresh_from_db()
        barred_doctor.blacklisted_at = withdrawn.start
        barred_doctor.save(update_fields=["blacklisted_at"])

        before = mark()
        no_show_sweep()
        assert sorted(events_after(before)) == sorted(
            [
                ("appointment.no_show", str(missed.pk)),
                ("penalty.created", str(missed.pk)),
                ("appointment.cancelled", str(withdrawn.pk)),
                ("appointment.cancelled", str(unconfirmed.pk)),
            ]
        )

        before = mark()
        no_show_sweep()
        assert events_after(before) == []


def test_only_active_endpoints_wanting_the_type_get_a_delivery(parties):
    patient, doctor = parties
    wanted = webhook_endpoint_create(
        url="https://a.example.org/", events=["appointment.booked"], secret=SECRET
    )
    webhook_endpoint_create(
        url="https://b.example.org/", events=["appointment.cancelled"], secret=SECRET
    )
    webhook_endpoint_create(
        url="https://c.example.org/", events=["appointment.booked"], secret=SECRET, is_active=False
    )

    appointment = booked(patient, doctor)
    (event,) = WebhookEvent.objects.all()
    assert list(event.deliveries.values_list("endpoint", flat=True)) == [wanted.pk]

    # A confirmation nobody wants writes no event at all.
    client_for(doctor.user).post(f"/api/v1/appointments/{appointment.pk}/confirm/")
    assert WebhookEvent.objects.count() == 1


@pytest.mark.django_db
def test_a_slot_offered_from_the_waitlist_is_one_waitlist_offer_event(endpoint, parties):
    patient, doctor = parties
    appointment = booked(patient, doctor)
    waiting = PatientFactory()
    entry_for(waiting, doctor, day=appointment.start.astimezone(clinic_zone()).date())
    before = mark()

    client_for(patient.user).post(f"/api/v1/appointments/{appointment.pk}/cancel/")

    (event,) = WebhookEvent.objects.exclude(pk__in=before).filter(type="waitlist.offer")
    offer = WaitlistOffer.objects.get()
    assert event.data["offer"] == {
        "id": str(offer.pk),
        "entry": str(offer.entry_id),
        "patient": str(waiting.pk),
        "doctor": str(doctor.pk),
        "slot": str(appointment.slot_id),
        "start": appointment.start.isoformat().replace("+00:00", "Z"),
        "end": appointment.end.isoformat().replace("+00:00", "Z"),
        "expires_at": offer.expires_at.isoformat().replace("+00:00", "Z"),
        "status": "open",
        "links": {"offers": "/api/v1/waitlist/offers/"},  # PUBLIC_BASE_URL is unset here
    }
    assert WebhookDelivery.objects.filter(event=event).count() == 1
    assert CLINICAL not in json.dumps(event.data)
