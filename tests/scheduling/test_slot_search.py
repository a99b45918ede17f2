from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from doctors.services import doctor_blacklist
from scheduling.services import holiday_create, time_off_create
from tests.conftest import client_for, error_codes
from tests.factories import AppointmentFactory, DoctorFactory, SpecializationFactory, in_future
from tests.schedule import window_published

SLOTS = "/api/v1/slots/"
LONDON = ZoneInfo("Europe/London")


def slot_ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [slot["id"] for slot in response.json()["results"]]


@pytest.fixture
def morning():
    return in_future(days=5).replace(hour=9)


@pytest.mark.django_db
class TestFreeSlots:
    def test_only_free_bookable_slots_are_listed_in_start_order(self, anon_client, doctor, morning):
        window = window_published(doctor, start=morning, hours=3)
        first, second, third = window.slots.order_by("start")
        AppointmentFactory(doctor=doctor, slot=second)
        AppointmentFactory(doctor=doctor, slot=third, status="cancelled")
        assert slot_ids(anon_client.get(SLOTS)) == [str(first.pk), str(third.pk)]

    def test_slots_within_the_lead_time_or_beyond_the_horizon_are_not_offered(
        self, anon_client, doctor, settings
    ):
        soon = window_published(doctor, start=in_future(hours=1), hours=1)
        later = window_published(doctor, start=in_future(days=3), hours=1)
        settings.BOOKING_HORIZON_DAYS = 2
        assert slot_ids(anon_client.get(SLOTS)) == []
        settings.BOOKING_HORIZON_DAYS = 90
        assert slot_ids(anon_client.get(SLOTS)) == [str(later.slots.get().pk)]
        assert soon.slots.exists()

    def test_blacklisted_doctors_slots_are_not_offered(self, anon_client, doctor, morning):
        window_published(doctor, start=morning)
        doctor_blacklist(doctor=doctor, reason="Licence suspended")
        assert slot_ids(anon_client.get(SLOTS)) == []

    def test_time_off_hides_the_slots_it_covers_until_removed(self, doctor_client, doctor, morning):
        window = window_published(doctor, start=morning, hours=3)
        response = doctor_client.post(
            "/api/v1/time-off/",
            {
                "start": (morning + timedelta(hours=1)).isoformat(),
                "end": (morning + timedelta(hours=2)).isoformat(),
                "reason": "Training",
            },
        )
        assert response.status_code == 201, response.json()
        first, _covered, third = window.slots.order_by("start")
        assert slot_ids(doctor_client.get(SLOTS)) == [str(first.pk), str(third.pk)]
        assert doctor_client.delete(f"/api/v1/time-off/{response.json()['id']}/").status_code == 204
        assert len(slot_ids(doctor_client.get(SLOTS))) == 3

    def test_time_off_over_an_active_appointment_is_409(self, doctor_client, doctor, morning):
        window = window_published(doctor, start=morning)
        AppointmentFactory(doctor=doctor, slot=window.slots.order_by("start").last())
        response = doctor_client.post(
            "/api/v1/time-off/",
            {"start": morning.isoformat(), "end": (morning + timedelta(days=1)).isoformat()},
        )
        assert response.status_code == 409
        assert error_codes(response) == ["has_active_appointments"]

    def test_a_holiday_closes_the_clinic_local_day(self, settings, doctor):
        settings.CLINIC_TIME_ZONE = "Europe/London"
        with time_machine.travel(datetime(2027, 6, 1, 8, tzinfo=LONDON), tick=False):
            # 23:30 local on the 9th is 22:30 UTC; 00:30 local on the 10th is 23:30 UTC on the 9th.
            late = window_published(
                doctor, start=datetime(2027, 6, 9, 22, 30, tzinfo=LONDON), hours=1
            )
            after_midnight = window_published(
                doctor, start=datetime(2027, 6, 10, 0, 30, tzinfo=LONDON), hours=1
            )
            admin = client_for(DoctorFactory().user)
            assert (
                admin.post("/api/v1/holidays/", {"date": "2027-06-10", "name": "x"}).status_code
                == 403
            )
            holiday_create(day=date(2027, 6, 10), name="Clinic closed")
            assert slot_ids(client_for().get(SLOTS)) == [str(late.slots.get().pk)]
            assert after_midnight.slots.exists()

    def test_a_holiday_over_an_active_appointment_is_409(self, admin_client, doctor, morning):
        window = window_published(doctor, start=morning)
        AppointmentFactory(doctor=doctor, slot=window.slots.first())
        day = morning.astimezone(ZoneInfo("Europe/London")).date()
        response = admin_client.post(
            "/api/v1/holidays/", {"date": day.isoformat(), "name": "Strike"}
        )
        assert response.status_code == 409
        assert error_codes(response) == ["has_active_appointments"]
        assert anon_holidays(admin_client) == []

    def test_filters_by_doctor_specialization_and_local_days(self, anon_client, morning):
        cardiology = SpecializationFactory(name="Cardiology")
        heart = DoctorFactory(specialization=cardiology)
        skin = DoctorFactory()
        today_heart = window_published(heart, start=morning, hours=1).slots.get()
        tomorrow_heart = window_published(
            heart, start=morning + timedelta(days=1), hours=1
        ).slots.get()
        window_published(skin, start=morning, hours=1)
        day = morning.astimezone(ZoneInfo("Europe/London")).date()
        assert slot_ids(anon_client.get(SLOTS, {"specialization": cardiology.pk})) == [
            str(today_heart.pk),
            str(tomorrow_heart.pk),
        ]
        assert slot_ids(
            anon_client.get(SLOTS, {"doctor": str(heart.pk), "date_from": day, "date_to": day})
        ) == [str(today_heart.pk)]
        doctor_slots = anon_client.get(
            f"/api/v1/doctors/{heart.pk}/slots/", {"date_from": day + timedelta(days=1)}
        )
        assert slot_ids(doctor_slots) == [str(tomorrow_heart.pk)]

    @pytest.mark.parametrize(
        "query",
        [
            {"doctor": "nope"},
            {"specialization": "x"},
            {"date_from": "2027-13-01"},
            {"date_from": "2027-01-02", "date_to": "2027-01-01"},
        ],
    )
    def test_bad_filters_are_400(self, anon_client, query):
        response = anon_client.get(SLOTS, query)
        assert response.status_code == 400
        assert response.json()["type"] == "validation_error"

    def test_a_blacklisted_or_unknown_doctors_slots_are_404(self, anon_client, doctor):
        doctor_blacklist(doctor=doctor, reason="x")
        assert anon_client.get(f"/api/v1/doctors/{doctor.pk}/slots/").status_code == 404
        assert (
            anon_client.get(
                "/api/v1/doctors/00000000-0000-0000-0000-000000000000/slots/"
            ).status_code
            == 404
        )

    def test_a_doctor_the_caller_sees_without_free_slots_is_an_empty_page(
        self, anon_client, admin_client, doctor
    ):
        response = anon_client.get(f"/api/v1/doctors/{doctor.pk}/slots/")
        assert response.status_code == 200
        assert response.json()["results"] == []
        # Admins see a blacklisted doctor, who has no free slot.
        doctor_blacklist(doctor=doctor, reason="x")
        response = admin_client.get(f"/api/v1/doctors/{doctor.pk}/slots/")
        assert response.status_code == 200
        assert response.json()["count"] == 0

    @pytest.mark.parametrize(
        "query", [{"date_from": "2026-02-30"}, {"page_size": "0"}, {"page": "2"}]
    )
    def test_an_unknown_doctor_is_404_before_the_query_is_read(self, anon_client, query):
        response = anon_client.get(
            "/api/v1/doctors/00000000-0000-0000-0000-000000000000/slots/", query
        )
        assert response.status_code == 404
        assert response.json()["errors"][0]["detail"] == "Not found."

    def test_a_known_doctors_bad_query_is_still_400(self, anon_client, doctor):
        response = anon_client.get(f"/api/v1/doctors/{doctor.pk}/slots/", {"page_size": "0"})
        assert response.status_code == 400

    def test_the_search_costs_the_same_queries_whatever_the_page_size(
        self, anon_client, django_assert_max_num_queries, morning
    ):
        for doctor in DoctorFactory.create_batch(6):
            window_published(doctor, start=morning, hours=8)
        with django_assert_max_num_queries(2):
            small = anon_client.get(SLOTS, {"page_size": 2})
        with django_assert_max_num_queries(2):
            large = anon_client.get(SLOTS, {"page_size": 100})
        assert len(small.json()["results"]) == 2
        assert len(large.json()["results"]) == 48


def anon_holidays(client) -> list:
    return client.get("/api/v1/holidays/").json()["results"]


@pytest.mark.django_db
def test_time_off_is_scoped_to_its_doctor(doctor_client, doctor, other_doctor):
    theirs = time_off_create(doctor=other_doctor, start=in_future(days=2), end=in_future(days=3))
    time_off_create(doctor=doctor, start=in_future(days=2), end=in_future(days=3))
    listed = doctor_client.get("/api/v1/time-off/").json()["results"]
    assert [row["doctor"] for row in listed] == [str(doctor.pk)]
    assert doctor_client.delete(f"/api/v1/time-off/{theirs.pk}/").status_code == 404
