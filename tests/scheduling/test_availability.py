from datetime import timedelta

import pytest

from scheduling.models import AvailabilityWindow, Slot
from tests.concurrency import run_at_once
from tests.conftest import client_for, error_attrs, error_codes
from tests.factories import AppointmentFactory, DoctorFactory, in_future
from tests.schedule import window_published

URL = "/api/v1/availability/"


def iso(moment) -> str:
    return moment.isoformat()


@pytest.fixture
def nine_am():
    return in_future(days=3).replace(hour=9)


@pytest.mark.django_db
class TestPublish:
    def test_a_window_is_split_into_one_hour_slots_and_a_short_remainder_makes_none(
        self, doctor_client, doctor, nine_am
    ):
        response = doctor_client.post(
            URL, {"start": iso(nine_am), "end": iso(nine_am + timedelta(hours=3, minutes=30))}
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["doctor"] == str(doctor.pk)
        starts = [slot["start"] for slot in body["slots"]]
        assert len(starts) == 3
        assert [s["is_booked"] for s in body["slots"]] == [False, False, False]
        assert Slot.objects.filter(doctor=doctor).count() == 3
        last = Slot.objects.filter(doctor=doctor).order_by("start").last()
        assert last.end == nine_am + timedelta(hours=3)

    @pytest.mark.parametrize(
        ("start_offset", "end_offset", "attr"),
        [
            (timedelta(0), timedelta(0), "end"),
            (timedelta(hours=2), timedelta(hours=1), "end"),
            (timedelta(0), timedelta(minutes=30), "end"),
            (timedelta(0), timedelta(hours=25), "end"),
        ],
        ids=["empty", "end-before-start", "shorter-than-a-slot", "over-24h"],
    )
    def test_bad_windows_are_400_and_create_nothing(
        self, doctor_client, nine_am, start_offset, end_offset, attr
    ):
        response = doctor_client.post(
            URL, {"start": iso(nine_am + start_offset), "end": iso(nine_am + end_offset)}
        )
        assert response.status_code == 400
        assert error_attrs(response) == [attr]
        assert not AvailabilityWindow.objects.exists()

    def test_a_start_that_has_passed_is_slot_in_past(self, doctor_client):
        start = in_future(hours=-2)
        response = doctor_client.post(
            URL, {"start": iso(start), "end": iso(start + timedelta(hours=4))}
        )
        assert response.status_code == 400
        assert error_codes(response) == ["slot_in_past"]

    def test_naive_datetimes_are_refused(self, doctor_client, nine_am):
        response = doctor_client.post(
            URL, {"start": "2027-01-04T09:00:00", "end": "2027-01-04T12:00:00"}
        )
        assert response.status_code == 400
        assert set(error_attrs(response)) == {"start", "end"}

    def test_an_overlapping_window_of_the_same_doctor_is_409(self, doctor_client, doctor, nine_am):
        window_published(doctor, start=nine_am, hours=3)
        response = doctor_client.post(
            URL,
            {"start": iso(nine_am + timedelta(hours=2)), "end": iso(nine_am + timedelta(hours=5))},
        )
        assert response.status_code == 409
        assert error_codes(response) == ["overlapping_availability"]
        assert AvailabilityWindow.objects.count() == 1

    def test_back_to_back_windows_and_other_doctors_do_not_overlap(
        self, doctor_client, doctor, other_doctor, nine_am
    ):
        window_published(doctor, start=nine_am, hours=3)
        window_published(other_doctor, start=nine_am, hours=3)
        response = doctor_client.post(
            URL,
            {"start": iso(nine_am + timedelta(hours=3)), "end": iso(nine_am + timedelta(hours=4))},
        )
        assert response.status_code == 201

    def test_a_doctor_publishes_only_for_themselves(
        self, doctor_client, doctor, other_doctor, nine_am
    ):
        response = doctor_client.post(
            URL,
            {
                "doctor": str(other_doctor.pk),
                "start": iso(nine_am),
                "end": iso(nine_am + timedelta(hours=1)),
            },
        )
        assert response.status_code == 201
        assert response.json()["doctor"] == str(doctor.pk)
        assert not AvailabilityWindow.objects.filter(doctor=other_doctor).exists()

    def test_an_admin_names_the_doctor(self, admin_client, doctor, nine_am):
        body = {"start": iso(nine_am), "end": iso(nine_am + timedelta(hours=1))}
        missing = admin_client.post(URL, body)
        assert missing.status_code == 400
        assert error_attrs(missing) == ["doctor"]
        response = admin_client.post(URL, {**body, "doctor": str(doctor.pk)})
        assert response.status_code == 201
        assert response.json()["doctor"] == str(doctor.pk)

    def test_patients_cannot_publish(self, patient_client, nine_am):
        response = patient_client.post(
            URL, {"start": iso(nine_am), "end": iso(nine_am + timedelta(hours=1))}
        )
        assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_windows_created_at_the_same_moment_cannot_both_land():
    doctor = DoctorFactory()
    start = in_future(days=4).replace(hour=9)

    def publish(offset_hours: int):
        def call():
            response = client_for(doctor.user).post(
                URL,
                {
                    "start": iso(start + timedelta(hours=offset_hours)),
                    "end": iso(start + timedelta(hours=offset_hours + 3)),
                },
            )
            return response.status_code, response.json()

        return call

    for _ in range(3):
        AvailabilityWindow.objects.all().delete()
        results = run_at_once([publish(0), publish(1)])
        assert sorted(status for status, _ in results) == [201, 409], results
        loser = next(body for status, body in results if status == 409)
        assert [e["code"] for e in loser["errors"]] == ["overlapping_availability"]
        assert AvailabilityWindow.objects.filter(doctor=doctor).count() == 1


@pytest.mark.django_db
class TestListAndDelete:
    def test_a_doctor_lists_only_their_own_windows_with_slots(
        self, doctor_client, doctor, other_doctor, nine_am
    ):
        own = window_published(doctor, start=nine_am)
        window_published(other_doctor, start=nine_am)
        response = doctor_client.get(URL)
        assert response.status_code == 200
        assert [w["id"] for w in response.json()["results"]] == [str(own.pk)]
        assert len(response.json()["results"][0]["slots"]) == 3

    def test_an_admin_filters_by_doctor(self, admin_client, doctor, other_doctor, nine_am):
        window_published(doctor, start=nine_am)
        theirs = window_published(other_doctor, start=nine_am)
        response = admin_client.get(URL, {"doctor": str(other_doctor.pk)})
        assert [w["id"] for w in response.json()["results"]] == [str(theirs.pk)]
        assert admin_client.get(URL, {"doctor": "not-a-uuid"}).status_code == 400

    def test_deleting_a_window_removes_it_and_its_free_slots(self, doctor_client, doctor, nine_am):
        window = window_published(doctor, start=nine_am)
        response = doctor_client.delete(f"{URL}{window.pk}/")
        assert response.status_code == 204
        assert not AvailabilityWindow.objects.exists()
        assert not Slot.objects.exists()

    def test_a_window_holding_an_active_appointment_is_not_deleted(
        self, doctor_client, doctor, nine_am
    ):
        window = window_published(doctor, start=nine_am)
        AppointmentFactory(doctor=doctor, slot=window.slots.first())
        response = doctor_client.delete(f"{URL}{window.pk}/")
        assert response.status_code == 409
        assert error_codes(response) == ["has_active_appointments"]
        assert Slot.objects.filter(window=window).count() == 3

    def test_another_doctors_window_is_404(self, doctor_client, other_doctor, nine_am):
        window = window_published(other_doctor, start=nine_am)
        assert doctor_client.delete(f"{URL}{window.pk}/").status_code == 404
        assert AvailabilityWindow.objects.filter(pk=window.pk).exists()
