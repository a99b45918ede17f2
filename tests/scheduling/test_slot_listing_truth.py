"""The free-slot listing tells the truth: every listed slot can be booked, and every slot
that can be booked is listed, for the clinic-local day filters too; on windows across local
midnight and on the days the clocks change, in two zones."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appointments.services import appointment_book
from core.clinic_time import clinic_zone, day_start
from core.errors import DomainError
from scheduling.models import AvailabilityWindow, Holiday, Slot
from scheduling.services import slot_times_split
from tests.factories import DoctorFactory, PatientFactory

# Days on which the clocks change (and an ordinary one) in each zone.
ZONE_DAYS = {
    "Europe/London": [date(2027, 3, 28), date(2027, 10, 31), date(2027, 6, 16)],
    "America/New_York": [date(2027, 3, 14), date(2027, 11, 7), date(2027, 6, 16)],
}


def _local_day(slot: Slot) -> date:
    return slot.start.astimezone(clinic_zone()).date()


def _listed(client, doctor, **days) -> set:
    query = {key: value.isoformat() for key, value in days.items()} | {"page_size": 100}
    response = client.get(f"/api/v1/doctors/{doctor.pk}/slots/", query)
    assert response.status_code == 200, response.json()
    assert response.json()["next"] is None
    return {row["id"] for row in response.json()["results"]}


def _bookable(slot: Slot, patient) -> bool:
    """Whether the booking service books the slot (for a patient with nothing else booked);
    the booking is rolled back either way."""
    try:
        with transaction.atomic():
            appointment_book(actor=patient.user, patient=patient, slot_id=slot.pk)
            transaction.set_rollback(True)
    except DomainError:
        return False
    return True


@st.composite
def schedules(draw):
    """A zone, a day near a clock change, a few windows of whole hours starting around that
    day's local midnight (from three hours before to three after), the moment of the check
    (up to three days before), the lead time, and maybe a holiday on the day."""
    zone = draw(st.sampled_from(sorted(ZONE_DAYS)))
    day = draw(st.sampled_from(ZONE_DAYS[zone])) + timedelta(days=draw(st.integers(-1, 1)))
    windows = draw(
        st.lists(st.tuples(st.integers(-3, 3), st.integers(1, 5)), min_size=1, max_size=3)
    )
    before = draw(st.integers(0, 72 * 4)) * timedelta(minutes=15)
    lead = draw(st.sampled_from([timedelta(0), timedelta(hours=1)]))
    holiday = draw(st.sampled_from([None, day, day - timedelta(days=1)]))
    return zone, day, windows, before, lead, holiday


@pytest.mark.django_db
@settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(schedule=schedules())
def test_listed_slots_are_exactly_the_bookable_ones(schedule, anon_client, settings):
    zone, day, windows, before, lead, holiday = schedule
    settings.CLINIC_TIME_ZONE = zone
    settings.BOOKING_LEAD_TIME = lead
    with transaction.atomic():
        doctor, patient = DoctorFactory(), PatientFactory()
        # In UTC: arithmetic on a zone's datetime would be wall-clock arithmetic.
        midnight = day_start(day).astimezone(UTC)
        free_from = None
        for offset, hours in sorted(windows):
            start = midnight + timedelta(hours=offset)
            if free_from is not None and start < free_from:
                continue
            window = AvailabilityWindow.objects.create(
                doctor=doctor, start=start, end=start + timedelta(hours=hours)
            )
            Slot.objects.bulk_create(
                Slot(doctor=doctor, window=window, start=slot_start, end=slot_end)
                for slot_start, slot_end in slot_times_split(start=window.start, end=window.end)
            )
            free_from = window.end
        if holiday is not None:
            Holiday.objects.create(date=holiday, name="Closed")

        with time_machine.travel(midnight - before, tick=False):
            slots = list(Slot.objects.filter(doctor=doctor))
            bookable = {str(slot.pk) for slot in slots if _bookable(slot, patient)}
            assert _listed(anon_client, doctor) == bookable
            days = sorted({_local_day(slot) for slot in slots})
            for local_day in days:
                on = {str(s.pk) for s in slots if _local_day(s) == local_day}
                since = {str(s.pk) for s in slots if _local_day(s) >= local_day}
                until = {str(s.pk) for s in slots if _local_day(s) <= local_day}
                assert _listed(anon_client, doctor, date_from=local_day, date_to=local_day) == (
                    bookable & on
                ), local_day
                assert _listed(anon_client, doctor, date_from=local_day) == bookable & since
                assert _listed(anon_client, doctor, date_to=local_day) == bookable & until
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_the_slot_at_local_midnight_is_listed_for_its_day(anon_client, settings):
    settings.CLINIC_TIME_ZONE = "Europe/London"
    doctor = DoctorFactory()
    day = date(2027, 7, 1)
    start = day_start(day).astimezone(UTC)  # 23:00 the day before: British Summer Time
    window = AvailabilityWindow.objects.create(
        doctor=doctor, start=start, end=start + timedelta(hours=2)
    )
    for slot_start, slot_end in slot_times_split(start=window.start, end=window.end):
        Slot.objects.create(doctor=doctor, window=window, start=slot_start, end=slot_end)
    with time_machine.travel(datetime(2027, 6, 20, 9, 0, tzinfo=clinic_zone()), tick=False):
        listed = _listed(anon_client, doctor, date_from=day, date_to=day)
    midnight = Slot.objects.get(doctor=doctor, start=start)
    assert str(midnight.pk) in listed
    assert len(listed) == 2
