"""Recurring series through the API: booked all or nothing, every refused date named with its
reason, each visit an ordinary appointment of its own, cancelled from a visit on."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from appointments.models import (
    Appointment,
    AppointmentSeries,
    AppointmentStatusChange,
)
from audit.models import AuditLog
from notifications.models import Notification
from scheduling.models import Slot
from scheduling.services import holiday_create, time_off_create
from tests.appointments.series import URL, local_day, visit_start, weekly_slots
from tests.conftest import client_for, error_attrs, error_codes
from tests.factories import AppointmentFactory, DoctorFactory, PatientFactory, in_future
from tests.schedule import slot_published


def book_series(client, slot, **body):
    return client.post(URL, {"slot": str(slot.pk), "every_weeks": 1, **body})


def nothing_booked() -> bool:
    return (
        not Appointment.objects.exists()
        and not AppointmentSeries.objects.exists()
        and not Slot.objects.filter(is_booked=True).exists()
    )


@pytest.mark.django_db
class TestBookingASeries:
    def test_a_patient_books_four_weekly_visits_each_an_ordinary_appointment(
        self, patient_client, patient, doctor
    ):
        slots = weekly_slots(doctor, count=4)
        response = book_series(patient_client, slots[0], count=4, reason="Physiotherapy")
        assert response.status_code == 201, response.json()
        body = response.json()
        assert (body["patient"], body["doctor"]) == (str(patient.pk), str(doctor.pk))
        assert (body["every_weeks"], body["count"], body["until"]) == (1, 4, None)
        assert body["status"] == "active"
        visits = body["appointments"]
        assert [v["slot"] for v in visits] == [str(s.pk) for s in slots]
        assert {v["series"] for v in visits} == {body["id"]}
        assert {v["status"] for v in visits} == {"pending"}
        assert {v["reason"] for v in visits} == {"Physiotherapy"}
        assert Slot.objects.filter(pk__in=[s.pk for s in slots], is_booked=True).count() == 4
        for visit in visits:
            history = AppointmentStatusChange.objects.get(appointment_id=visit["id"])
            assert (history.from_status, history.to_status) == ("", "pending")
        assert Notification.objects.filter(recipient=patient.user).count() == 4
        assert Notification.objects.filter(recipient=doctor.user).count() == 4
        audited = AuditLog.objects.filter(actor_id=patient.user.pk).values_list(
            "target_type", flat=True
        )
        assert sorted(audited) == ["appointment"] * 4 + ["appointmentseries"]
        one = patient_client.get(f"/api/v1/appointments/{visits[1]['id']}/").json()
        assert one["series"] == body["id"]

    def test_until_books_every_nth_week_through_that_clinic_local_day(self, patient_client, doctor):
        slots = weekly_slots(doctor, count=5)
        response = book_series(patient_client, slots[0], every_weeks=2, until=local_day(slots[4]))
        assert response.status_code == 201, response.json()
        booked = [v["slot"] for v in response.json()["appointments"]]
        assert booked == [str(slots[0].pk), str(slots[2].pk), str(slots[4].pk)]

    def test_a_doctor_without_approval_gets_a_confirmed_series(self, patient_client, doctor):
        doctor.requires_approval = False
        doctor.save()
        slots = weekly_slots(doctor, count=2)
        visits = book_series(patient_client, slots[0], count=2).json()["appointments"]
        assert {v["status"] for v in visits} == {"confirmed"}

    def test_an_admin_books_for_a_patient_and_must_name_them(self, admin_client, patient, doctor):
        slots = weekly_slots(doctor, count=2)
        missing = book_series(admin_client, slots[0], count=2)
        assert missing.status_code == 400
        assert error_attrs(missing) == ["patient"]
        response = book_series(admin_client, slots[0], count=2, patient=str(patient.pk))
        assert response.status_code == 201
        assert response.json()["patient"] == str(patient.pk)

    def test_a_doctor_may_not_book_a_series(self, doctor_client, doctor):
        slots = weekly_slots(doctor, count=2)
        assert book_series(doctor_client, slots[0], count=2).status_code == 403
        assert nothing_booked()


@pytest.mark.django_db
class TestAllOrNothing:
    def test_every_refused_date_is_named_with_its_reason_and_nothing_is_booked(
        self, patient_client, patient, doctor
    ):
        slots = weekly_slots(doctor, count=6)
        AppointmentFactory(slot=slots[1], doctor=doctor)  # someone else holds it
        holiday_create(day=date.fromisoformat(local_day(slots[2])), name="Founders' day")
        time_off_create(doctor=doctor, start=slots[3].start, end=slots[3].end)
        elsewhere = slot_published(DoctorFactory(), start=slots[4].start)
        mine = AppointmentFactory(slot=elsewhere, doctor=elsewhere.doctor, patient=patient)
        Slot.objects.filter(pk=slots[5].pk).delete()  # the doctor has no slot that week
        before = Appointment.objects.count()
        response = book_series(patient_client, slots[0], count=6)
        assert response.status_code == 409, response.json()
        assert error_codes(response) == [
            "series_conflict",
            "slot_unavailable",
            "clinic_closed",
            "doctor_unavailable",
            "patient_conflict",
            "slot_unavailable",
        ]
        assert error_attrs(response) == [None, *(local_day(s) for s in slots[1:])]
        assert Appointment.objects.count() == before
        assert list(Appointment.objects.filter(patient=patient)) == [mine]
        assert not AppointmentSeries.objects.exists()
        assert not Slot.objects.get(pk=slots[0].pk).is_booked
        assert not Notification.objects.filter(recipient=patient.user).exists()

    def test_the_whole_series_must_fit_under_the_patients_limit(
        self, patient_client, admin_client, patient, doctor, settings
    ):
        settings.MAX_ACTIVE_APPOINTMENTS_PER_PATIENT = 3
        slots = weekly_slots(doctor, count=4)
        response = book_series(patient_client, slots[0], count=4)
        assert response.status_code == 409
        assert error_codes(response) == ["appointment_limit_reached"]
        assert nothing_booked()
        assert book_series(patient_client, slots[0], count=3).status_code == 201
        assert Appointment.objects.filter(patient=patient).count() == 3

    def test_an_admin_is_not_held_to_the_patients_limit(
        self, admin_client, patient, doctor, settings
    ):
        settings.MAX_ACTIVE_APPOINTMENTS_PER_PATIENT = 3
        slots = weekly_slots(doctor, count=4)
        response = book_series(admin_client, slots[0], count=4, patient=str(patient.pk))
        assert response.status_code == 201

    def test_a_blacklisted_doctor_is_doctor_unavailable(self, patient_client, doctor):
        slots = weekly_slots(doctor, count=2)
        doctor.is_blacklisted = True
        doctor.save()
        response = book_series(patient_client, slots[0], count=2)
        assert response.status_code == 409
        assert error_codes(response) == ["doctor_unavailable"]
        assert nothing_booked()


@pytest.mark.django_db
class TestTheRule:
    @pytest.mark.parametrize(
        ("body", "attr"),
        [
            ({"count": 1}, "count"),
            ({}, "count"),
            ({"count": 2, "until": "2030-01-01"}, "until"),
            ({"count": 2, "every_weeks": 5}, "every_weeks"),
            ({"count": 2, "every_weeks": 0}, "every_weeks"),
        ],
    )
    def test_a_malformed_rule_is_a_400_on_its_field(self, patient_client, doctor, body, attr):
        slots = weekly_slots(doctor, count=2)
        response = book_series(patient_client, slots[0], **body)
        assert response.status_code == 400
        assert attr in error_attrs(response)
        assert nothing_booked()

    def test_more_visits_than_the_setting_allows_is_a_400(self, patient_client, doctor, settings):
        settings.SERIES_MAX_OCCURRENCES = 3
        slots = weekly_slots(doctor, count=4)
        response = book_series(patient_client, slots[0], count=4)
        assert response.status_code == 400
        assert error_attrs(response) == ["count"]
        until = book_series(patient_client, slots[0], until=local_day(slots[3]))
        assert until.status_code == 400
        assert error_attrs(until) == ["until"]
        assert nothing_booked()

    def test_an_end_before_the_first_visit_or_with_one_visit_is_a_400(self, patient_client, doctor):
        slots = weekly_slots(doctor, count=2)
        for until in (slots[0].start - timedelta(days=1), slots[0].start + timedelta(days=2)):
            response = book_series(patient_client, slots[0], until=until.date().isoformat())
            assert response.status_code == 400
            assert error_attrs(response) == ["until"]
        assert nothing_booked()

    def test_a_series_reaching_past_the_horizon_is_a_400(self, patient_client, doctor, settings):
        settings.BOOKING_HORIZON_DAYS = 20
        slots = weekly_slots(doctor, count=3)
        response = book_series(patient_client, slots[0], count=4)
        assert response.status_code == 400
        assert error_codes(response) == ["beyond_booking_horizon"]
        assert error_attrs(response) == ["count"]

    def test_the_first_slot_is_checked_as_a_single_booking_is(self, patient_client, doctor):
        soon = slot_published(
            doctor, start=timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=30)
        )
        response = book_series(patient_client, soon, count=2)
        assert response.status_code == 400
        assert error_codes(response) == ["lead_time_violation"]
        unknown = patient_client.post(
            URL, {"slot": "00000000-0000-0000-0000-000000000000", "every_weeks": 1, "count": 2}
        )
        assert unknown.status_code == 409
        assert error_codes(unknown) == ["slot_unavailable"]


@pytest.fixture
def series(patient_client, doctor):
    slots = weekly_slots(doctor, count=4)
    body = book_series(patient_client, slots[0], count=4).json()
    return AppointmentSeries.objects.get(pk=body["id"])


def visits(series) -> list[Appointment]:
    return list(series.appointments.order_by("start"))


@pytest.mark.django_db
class TestSeeingSeries:
    def test_each_party_sees_their_own_series_and_nobody_else_does(
        self, series, patient_client, doctor_client, admin_client
    ):
        path = f"{URL}{series.pk}/"
        for client in (patient_client, doctor_client, admin_client):
            listed = client.get(URL).json()
            assert [s["id"] for s in listed["results"]] == [str(series.pk)]
            assert len(listed["results"][0]["appointments"]) == 4
            assert client.get(path).status_code == 200
        for stranger in (PatientFactory().user, DoctorFactory().user):
            client = client_for(stranger)
            assert client.get(URL).json()["results"] == []
            assert client.get(path).status_code == 404
            assert client.post(f"{path}cancel/", {}).status_code == 404


@pytest.mark.django_db
class TestCancellingASeries:
    def test_null_cancels_every_visit_still_to_come_each_as_a_normal_cancel(
        self, series, patient_client, patient, doctor
    ):
        first, *rest = visits(series)
        Appointment.objects.filter(pk=first.pk).update(status="completed")
        Notification.objects.all().delete()
        response = patient_client.post(
            f"{URL}{series.pk}/cancel/", {"from": None, "reason": "Moving away"}
        )
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == "cancelled"
        statuses = [v.status for v in visits(series)]
        assert statuses == ["completed", "cancelled", "cancelled", "cancelled"]
        for visit in rest:
            change = visit.history.order_by("at").last()
            assert (change.from_status, change.to_status, change.note) == (
                "pending",
                "cancelled",
                "Moving away",
            )
            assert not Slot.objects.get(pk=visit.slot_id).is_booked
        assert Notification.objects.filter(recipient=patient.user).count() == 3
        assert Notification.objects.filter(recipient=doctor.user).count() == 3

    def test_an_id_cancels_that_visit_and_those_after_it(self, series, doctor_client):
        chosen = visits(series)[2]
        response = doctor_client.post(f"{URL}{series.pk}/cancel/", {"from": str(chosen.pk)})
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "active"
        assert [v["status"] for v in body["appointments"]] == [
            "pending",
            "pending",
            "cancelled",
            "cancelled",
        ]

    def test_a_visit_of_another_series_is_a_400_and_nothing_is_left_a_409(
        self, series, patient_client, admin_client, other_patient, doctor
    ):
        stranger = AppointmentFactory(patient=other_patient, doctor=doctor)
        response = patient_client.post(f"{URL}{series.pk}/cancel/", {"from": str(stranger.pk)})
        assert response.status_code == 400
        assert error_attrs(response) == ["from"]
        assert patient_client.post(f"{URL}{series.pk}/cancel/", {}).status_code == 200
        again = admin_client.post(f"{URL}{series.pk}/cancel/", {})
        assert again.status_code == 409
        assert error_codes(again) == ["invalid_transition"]

    def test_one_visit_cancelled_alone_leaves_the_others_booked(self, series, patient_client):
        one = visits(series)[1]
        response = patient_client.post(f"/api/v1/appointments/{one.pk}/cancel/", {})
        assert response.status_code == 200
        assert [v.status for v in visits(series)] == [
            "pending",
            "cancelled",
            "pending",
            "pending",
        ]

    def test_a_visit_already_started_is_left_alone(self, series, patient_client):
        first = visits(series)[0]
        Appointment.objects.filter(pk=first.pk).update(
            start=in_future(minutes=-10), end=in_future(minutes=50)
        )
        response = patient_client.post(f"{URL}{series.pk}/cancel/", {})
        assert response.status_code == 200
        assert [v.status for v in visits(series)] == ["pending"] + ["cancelled"] * 3
        assert response.json()["status"] == "active"  # that visit is still pending

    def test_a_visit_moved_to_another_slot_stays_in_the_series(
        self, series, patient_client, doctor
    ):
        second = visits(series)[1]
        elsewhere = slot_published(doctor, start=visit_start(second.start, 0) + timedelta(hours=3))
        moved = patient_client.post(
            f"/api/v1/appointments/{second.pk}/reschedule/", {"slot": str(elsewhere.pk)}
        )
        assert moved.status_code == 201
        assert moved.json()["series"] == str(series.pk)
        patient_client.post(f"{URL}{series.pk}/cancel/", {})
        assert sorted(v.status for v in visits(series)) == ["cancelled"] * 4 + ["rescheduled"]


@pytest.mark.django_db
class TestTheClinicsClock:
    """The clinic is in London (the default); its clocks go forward on 28 March 2027."""

    def test_a_weekly_visit_keeps_its_clinic_local_hour_across_the_change(self, patient, doctor):
        with time_machine.travel(datetime(2027, 3, 10, 12, tzinfo=UTC)):
            patient_client = client_for(patient.user)
            before = slot_published(doctor, start=datetime(2027, 3, 22, 10, tzinfo=UTC))  # GMT
            after = slot_published(doctor, start=datetime(2027, 3, 29, 9, tzinfo=UTC))  # BST
            slot_published(doctor, start=datetime(2027, 3, 29, 10, tzinfo=UTC))  # 11:00 BST
            response = book_series(patient_client, before, count=2)
        assert response.status_code == 201, response.json()
        assert [v["slot"] for v in response.json()["appointments"]] == [
            str(before.pk),
            str(after.pk),
        ]

    def test_a_visit_at_an_hour_the_clocks_skip_is_refused_for_that_date(self, patient, doctor):
        with time_machine.travel(datetime(2027, 3, 10, 12, tzinfo=UTC)):
            patient_client = client_for(patient.user)
            night = slot_published(doctor, start=datetime(2027, 3, 21, 1, 30, tzinfo=UTC))
            response = book_series(patient_client, night, count=2)
        assert response.status_code == 409
        assert list(zip(error_attrs(response), error_codes(response), strict=True)) == [
            (None, "series_conflict"),
            ("2027-03-28", "slot_unavailable"),
        ]
        assert nothing_booked()


@pytest.mark.django_db
class TestCancellingInsideTheCutoff:
    """The doctor's cancel cutoff (4 days) covers the first visit, in 3 days, only."""

    @pytest.fixture(autouse=True)
    def cutoff(self, doctor):
        doctor.cancel_cutoff = timedelta(days=4)
        doctor.save()

    def test_where_late_cancels_are_refused_the_patient_cancels_the_others(
        self, series, patient_client, settings
    ):
        settings.LATE_CANCELLATION_POLICY = "refuse"
        response = patient_client.post(f"{URL}{series.pk}/cancel/", {})
        assert response.status_code == 200, response.json()
        assert [v.status for v in visits(series)] == ["pending"] + ["cancelled"] * 3
        assert response.json()["status"] == "active"
        first = visits(series)[0]
        alone = patient_client.post(f"{URL}{series.pk}/cancel/", {"from": str(first.pk)})
        assert alone.status_code == 409
        assert error_codes(alone) == ["inside_cutoff"]

    def test_where_late_cancels_are_penalised_each_is_a_late_cancel(
        self, series, patient_client, patient, settings
    ):
        settings.LATE_CANCELLATION_POLICY = "penalise"
        response = patient_client.post(f"{URL}{series.pk}/cancel/", {})
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == "cancelled"
        late = patient.penalties.get()
        assert (late.kind, late.appointment_id) == ("late_cancellation", visits(series)[0].pk)

    def test_the_doctor_is_not_held_to_it(self, series, doctor_client, settings):
        settings.LATE_CANCELLATION_POLICY = "refuse"
        response = doctor_client.post(f"{URL}{series.pk}/cancel/", {})
        assert response.status_code == 200
        assert [v.status for v in visits(series)] == ["cancelled"] * 4
