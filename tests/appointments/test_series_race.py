"""Series under real concurrency: threads with their own PostgreSQL connections, released
together, each sending a real HTTP request through the whole stack. A series locks all its
visits' slots in one statement in key order (`core.locks`), so two series over common dates
never deadlock (a deadlock would answer 503) and never half-book: each is booked whole or not
at all."""

import random

import pytest

from appointments import services
from appointments.models import Appointment, AppointmentSeries
from tests.appointments.series import URL, local_day, weekly_slots
from tests.concurrency import RunAfter, run_at_once, run_to_completion
from tests.conftest import client_for
from tests.factories import DoctorFactory, PatientFactory, in_future

pytestmark = pytest.mark.django_db(transaction=True)


def series_booking(user, slot, count: int):
    client = client_for(user)

    def call():
        response = client.post(URL, {"slot": str(slot.pk), "every_weeks": 1, "count": count})
        return response.status_code, response.json()

    return call


def single_booking(user, slot):
    client = client_for(user)

    def call():
        response = client.post("/api/v1/appointments/", {"slot": str(slot.pk)})
        return response.status_code, response.json()

    return call


def conflicts(body) -> list[tuple[str | None, str]]:
    return [(error["attr"], error["code"]) for error in body["errors"]]


def test_two_series_over_common_dates_at_once_book_one_whole_and_nothing_of_the_other():
    rounds = 10
    for round_number in range(rounds):
        doctor = DoctorFactory()
        slots = weekly_slots(
            doctor, count=8, first=in_future(days=2).replace(hour=8 + round_number)
        )
        first, second = PatientFactory(), PatientFactory()
        results = run_at_once(
            [series_booking(first.user, slots[0], 6), series_booking(second.user, slots[2], 6)]
        )
        statuses = sorted(status for status, _ in results)
        assert statuses == [201, 409], results
        winner = next(body for status, body in results if status == 201)
        loser = next(body for status, body in results if status == 409)
        common = [local_day(slot) for slot in slots[2:6]]
        assert conflicts(loser) == [
            (None, "series_conflict"),
            *((day, "slot_unavailable") for day in common),
        ]
        assert len(winner["appointments"]) == 6
        assert AppointmentSeries.objects.filter(doctor=doctor).count() == 1
        booked = Appointment.objects.filter(doctor=doctor)
        assert booked.count() == 6
        assert {str(a.patient_id) for a in booked} == {winner["patient"]}


def test_many_series_over_one_pool_of_dates_at_once_never_deadlock_nor_half_book():
    """Six patients ask at once for four weekly visits each, starting in random weeks of one
    doctor's ten, so their series overlap in many ways (the slots' keys are random, so their
    key order is unrelated to their dates). Every answer is 201 or 409 `series_conflict`;
    every series is booked whole or not at all; no slot is booked twice."""
    rng = random.Random(18)
    rounds, patients_per_round, outcomes = 8, 6, {201: 0, 409: 0}
    for round_number in range(rounds):
        doctor = DoctorFactory()
        slots = weekly_slots(
            doctor, count=10, first=in_future(days=2).replace(hour=7 + round_number)
        )
        patients = PatientFactory.create_batch(patients_per_round)
        firsts = [slots[rng.randrange(0, 7)] for _ in patients]
        results = run_at_once(
            [series_booking(p.user, f, 4) for p, f in zip(patients, firsts, strict=True)]
        )
        for status, body in results:
            assert status in (201, 409), (status, body)
            outcomes[status] += 1
            if status == 409:
                assert body["errors"][0]["code"] == "series_conflict"
        assert 201 in [status for status, _ in results]
        for patient in patients:
            assert Appointment.objects.filter(patient=patient).count() in (0, 4)
        booked = list(Appointment.objects.filter(doctor=doctor).values_list("slot_id", flat=True))
        assert len(booked) == len(set(booked))
        assert len(booked) == 4 * AppointmentSeries.objects.filter(doctor=doctor).count()
    assert outcomes[201] + outcomes[409] == rounds * patients_per_round


def test_a_series_racing_single_bookings_of_its_dates_wins_whole_or_books_nothing():
    rounds = 6
    for round_number in range(rounds):
        doctor = DoctorFactory()
        slots = weekly_slots(
            doctor, count=5, first=in_future(days=2).replace(hour=8 + round_number)
        )
        holder = PatientFactory()
        singles = PatientFactory.create_batch(4)
        results = run_at_once(
            [
                series_booking(holder.user, slots[0], 5),
                *(single_booking(p.user, s) for p, s in zip(singles, slots[1:], strict=True)),
            ]
        )
        series_status, series_body = results[0]
        single_statuses = [status for status, _ in results[1:]]
        if series_status == 201:
            assert single_statuses == [409] * 4
            assert Appointment.objects.filter(patient=holder).count() == 5
        else:
            assert series_status == 409, series_body
            assert not Appointment.objects.filter(patient=holder).exists()
            won = [
                local_day(slot)
                for slot, status in zip(slots[1:], single_statuses, strict=True)
                if status == 201
            ]
            # It names the dates taken when it looked; a single booking waiting for a slot it
            # held may win that slot after it gave up.
            refused = [attr for attr, _ in conflicts(series_body)[1:]]
            assert refused
            assert set(refused) <= set(won)


def test_a_booking_that_lands_after_the_series_looked_but_before_it_locked_is_seen():
    """The series finds its visits' slots without locks, then locks and re-checks them: a
    booking committed in between (injected at that exact point) makes it refuse that date,
    and book nothing."""
    doctor = DoctorFactory()
    slots = weekly_slots(doctor, count=4)
    holder, other = PatientFactory(), PatientFactory()

    def competing_booking():
        return run_to_completion(
            lambda: services.appointment_book(actor=other.user, patient=other, slot_id=slots[2].pk)
        )

    with RunAfter(services, "_series_starts", competing_booking) as race:
        status, body = series_booking(holder.user, slots[0], 4)()
    assert race.fired.is_set()
    assert status == 409, body
    assert conflicts(body) == [(None, "series_conflict"), (local_day(slots[2]), "slot_unavailable")]
    assert not Appointment.objects.filter(patient=holder).exists()
    assert Appointment.objects.get(slot=slots[2]).patient == other


def test_one_patient_booking_two_series_at_the_same_hours_at_once_gets_one(settings):
    settings.MAX_ACTIVE_APPOINTMENTS_PER_PATIENT = 100  # the loser must reach the overlap check
    patient = PatientFactory()
    for round_number in range(4):
        first = in_future(days=2).replace(hour=8 + round_number)
        left = weekly_slots(DoctorFactory(), count=3, first=first)
        right = weekly_slots(DoctorFactory(), count=3, first=first)
        results = run_at_once(
            [series_booking(patient.user, left[0], 3), series_booking(patient.user, right[0], 3)]
        )
        assert sorted(status for status, _ in results) == [201, 409]
        loser = next(body for status, body in results if status == 409)
        assert conflicts(loser) == [
            (None, "series_conflict"),
            *((local_day(slot), "patient_conflict") for slot in left),
        ]
    assert Appointment.objects.filter(patient=patient).count() == 12


def posting(user, path: str):
    client = client_for(user)
    return lambda: client.post(path, {}).status_code


def test_two_cancels_of_one_series_and_one_of_its_visits_at_once_cancel_each_visit_once():
    """The patient and the doctor cancel the series while the patient cancels one visit: one
    series cancel does the work, the other finds nothing left (409), the single cancel wins
    its visit or finds it cancelled (409); each visit has exactly one cancellation."""
    doctor, patient = DoctorFactory(), PatientFactory()
    for round_number in range(5):
        slots = weekly_slots(
            doctor, count=3, first=in_future(days=2).replace(hour=8 + round_number)
        )
        status, body = series_booking(patient.user, slots[0], 3)()
        assert status == 201, body
        path = f"{URL}{body['id']}/cancel/"
        visit = body["appointments"][1]["id"]
        results = run_at_once(
            [
                posting(patient.user, path),
                posting(doctor.user, path),
                posting(patient.user, f"/api/v1/appointments/{visit}/cancel/"),
            ]
        )
        assert sorted(results[:2]) == [200, 409], results
        assert results[2] in (200, 409)
        series = AppointmentSeries.objects.get(pk=body["id"])
        assert series.status == "cancelled"
        for appointment in series.appointments.all():
            assert appointment.status == "cancelled"
            assert appointment.history.filter(to_status="cancelled").count() == 1
