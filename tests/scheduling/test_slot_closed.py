"""`slot_closures`, which booking asks under its locks: time off of the slot's doctor or a
clinic holiday on the slot's clinic-local day closes it (and says which), and it takes one
query however many slots it is asked about."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduling.models import Holiday
from scheduling.selectors import slot_closures
from tests.factories import DoctorFactory, in_future
from tests.schedule import slot_published

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def slot(doctor):
    return slot_published(doctor, start=in_future(days=4).replace(hour=10))


@pytest.mark.django_db
class TestSlotClosures:
    def test_an_open_slot_is_not_closed_and_asking_takes_one_query(
        self, slot, django_assert_num_queries
    ):
        with django_assert_num_queries(1):
            assert slot_closures(slots=[slot]) == {}

    def test_time_off_of_its_doctor_over_it_closes_it(self, slot, doctor):
        doctor.time_off.create(start=slot.start + timedelta(minutes=30), end=slot.end)
        assert slot_closures(slots=[slot]) == {slot.pk: "time_off"}

    def test_time_off_of_another_doctor_does_not(self, slot):
        DoctorFactory().time_off.create(start=slot.start, end=slot.end)
        assert slot_closures(slots=[slot]) == {}

    def test_a_holiday_on_its_clinic_local_day_closes_it(self, slot, settings):
        settings.CLINIC_TIME_ZONE = "Europe/London"
        Holiday.objects.create(date=slot.start.astimezone(LONDON).date(), name="Bank holiday")
        assert slot_closures(slots=[slot]) == {slot.pk: "holiday"}

    def test_a_holiday_on_another_day_does_not(self, slot, settings):
        settings.CLINIC_TIME_ZONE = "Europe/London"
        day = slot.start.astimezone(LONDON).date() + timedelta(days=1)
        Holiday.objects.create(date=day, name="Bank holiday")
        assert slot_closures(slots=[slot]) == {}

    def test_many_slots_are_answered_each_for_itself_in_one_query(
        self, slot, doctor, settings, django_assert_num_queries
    ):
        settings.CLINIC_TIME_ZONE = "Europe/London"
        week_later = slot_published(doctor, start=slot.start + timedelta(weeks=1))
        two_weeks_later = slot_published(doctor, start=slot.start + timedelta(weeks=2))
        open_one = slot_published(doctor, start=slot.start + timedelta(weeks=3))
        Holiday.objects.create(date=week_later.start.astimezone(LONDON).date(), name="Closed")
        doctor.time_off.create(start=two_weeks_later.start, end=two_weeks_later.end)
        DoctorFactory().time_off.create(start=open_one.start, end=open_one.end)
        with django_assert_num_queries(1):
            closures = slot_closures(slots=[slot, week_later, two_weeks_later, open_one])
        assert closures == {week_later.pk: "holiday", two_weeks_later.pk: "time_off"}
