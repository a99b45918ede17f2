from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from appointments.services import appointment_book_override
from scheduling.models import AvailabilityWindow, Slot, WeeklyRule
from scheduling.services import rule_slot_times, slots_extend, weekly_rule_create
from tests.concurrency import run_at_once
from tests.conftest import client_for, error_codes
from tests.factories import AppointmentFactory, DoctorFactory

URL = "/api/v1/availability/weekly/"
LONDON = ZoneInfo("Europe/London")


def local_times(slots) -> list[str]:
    return [slot.start.astimezone(LONDON).strftime("%Y-%m-%d %H:%M") for slot in slots]


@pytest.fixture
def london(settings):
    settings.CLINIC_TIME_ZONE = "Europe/London"


@pytest.mark.django_db
@pytest.mark.usefixtures("london")
class TestWeeklyRules:
    @time_machine.travel(datetime(2027, 3, 1, 8, 0, tzinfo=LONDON), tick=False)
    def test_a_9am_rule_gives_9am_local_slots_on_both_sides_of_a_clock_change(self, doctor):
        response = client_for(doctor.user).post(
            URL,
            {
                "day_of_week": 0,
                "start_time": "09:00",
                "end_time": "11:00",
                "effective_from": "2027-03-01",
            },
        )
        assert response.status_code == 201, response.json()
        slots = Slot.objects.filter(doctor=doctor).order_by("start")
        around_the_change = [
            s
            for s in slots
            if date(2027, 3, 22) <= s.start.astimezone(LONDON).date() <= date(2027, 3, 29)
        ]
        assert local_times(around_the_change) == [
            "2027-03-22 09:00",
            "2027-03-22 10:00",
            "2027-03-29 09:00",
            "2027-03-29 10:00",
        ]
        # The same wall time is an hour earlier in UTC once summer time starts.
        assert around_the_change[0].start.hour == 9
        assert around_the_change[2].start.hour == 8

    @time_machine.travel(datetime(2026, 12, 1, 8, 0, tzinfo=LONDON), tick=False)
    def test_slots_are_generated_through_the_horizon_and_extending_twice_adds_nothing(
        self, doctor, settings
    ):
        settings.BOOKING_HORIZON_DAYS = 28
        rule = weekly_rule_create(
            doctor=doctor,
            day_of_week=2,
            start_time=time(9),
            end_time=time(12),
            effective_from=date(2026, 12, 1),
        )
        windows = AvailabilityWindow.objects.filter(weekly_rule=rule)
        # The horizon ends on 2026-12-29, so the Wednesday after it waits for a later run.
        assert [w.rule_date for w in windows.order_by("start")] == [
            date(2026, 12, 2),
            date(2026, 12, 9),
            date(2026, 12, 16),
            date(2026, 12, 23),
        ]
        assert Slot.objects.filter(window__weekly_rule=rule).count() == 12
        assert slots_extend() == 0
        call_command("extend_slots")
        assert Slot.objects.filter(window__weekly_rule=rule).count() == 12

    def test_as_days_pass_the_rule_keeps_generating(self, doctor, settings):
        settings.BOOKING_HORIZON_DAYS = 14
        with time_machine.travel(datetime(2026, 12, 1, 8, 0, tzinfo=LONDON), tick=False):
            rule = weekly_rule_create(
                doctor=doctor,
                day_of_week=2,
                start_time=time(9),
                end_time=time(10),
                effective_from=date(2026, 12, 1),
            )
            assert AvailabilityWindow.objects.filter(weekly_rule=rule).count() == 2
        with time_machine.travel(datetime(2026, 12, 15, 8, 0, tzinfo=LONDON), tick=False):
            assert slots_extend() == 2
            assert slots_extend() == 0
        assert AvailabilityWindow.objects.filter(weekly_rule=rule).count() == 4

    @time_machine.travel(datetime(2026, 12, 1, 8, 0, tzinfo=LONDON), tick=False)
    def test_a_rule_makes_its_hours_around_an_existing_window(self, doctor, settings):
        settings.BOOKING_HORIZON_DAYS = 14
        manual = AvailabilityWindow.objects.create(
            doctor=doctor,
            start=datetime(2026, 12, 2, 10, 0, tzinfo=LONDON),
            end=datetime(2026, 12, 2, 11, 0, tzinfo=LONDON),
        )
        rule = weekly_rule_create(
            doctor=doctor,
            day_of_week=2,
            start_time=time(9),
            end_time=time(12),
            effective_from=date(2026, 12, 1),
        )
        made = AvailabilityWindow.objects.filter(weekly_rule=rule).order_by("start")
        assert [w.rule_date for w in made] == [date(2026, 12, 2)] * 2 + [date(2026, 12, 9)]
        assert local_times(Slot.objects.filter(window__weekly_rule=rule).order_by("start")) == [
            "2026-12-02 09:00",
            "2026-12-02 11:00",
            "2026-12-09 09:00",
            "2026-12-09 10:00",
            "2026-12-09 11:00",
        ]
        assert AvailabilityWindow.objects.filter(pk=manual.pk).exists()

    def test_an_overlapping_rule_is_409(self, doctor_client):
        body = {
            "day_of_week": 1,
            "start_time": "09:00",
            "end_time": "12:00",
            "effective_from": "2027-01-01",
        }
        assert doctor_client.post(URL, body).status_code == 201
        response = doctor_client.post(URL, {**body, "start_time": "11:00", "end_time": "13:00"})
        assert response.status_code == 409
        assert error_codes(response) == ["overlapping_availability"]

    @pytest.mark.parametrize(
        "changes",
        [
            {"day_of_week": 7},
            {"end_time": "08:00"},
            {"end_time": "09:30"},
            {"effective_until": "2026-12-01", "effective_from": "2027-01-01"},
            {"start_time": "9am"},
        ],
    )
    def test_bad_rules_are_400(self, doctor_client, changes):
        body = {
            "day_of_week": 1,
            "start_time": "09:00",
            "end_time": "12:00",
            "effective_from": "2027-01-01",
        }
        response = doctor_client.post(URL, {**body, **changes})
        assert response.status_code == 400
        assert not WeeklyRule.objects.exists()

    def test_deleting_a_rule_removes_its_upcoming_windows_unless_one_is_booked(
        self, doctor_client, doctor
    ):
        rule = weekly_rule_create(
            doctor=doctor,
            day_of_week=3,
            start_time=time(9),
            end_time=time(11),
            effective_from=date.today(),
        )
        first_slot = Slot.objects.filter(window__weekly_rule=rule).order_by("start").first()
        AppointmentFactory(doctor=doctor, slot=first_slot)
        refused = doctor_client.delete(f"{URL}{rule.pk}/")
        assert refused.status_code == 409
        assert error_codes(refused) == ["has_active_appointments"]
        first_slot.appointments.update(status="cancelled")
        Slot.objects.filter(pk=first_slot.pk).update(is_booked=False)
        assert doctor_client.delete(f"{URL}{rule.pk}/").status_code == 204
        assert not WeeklyRule.objects.exists()
        assert not Slot.objects.filter(doctor=doctor).exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("london")
class TestOverrideBeyondTheHorizon:
    """An admin books an override on a rule's day beyond the slot horizon (the rule has not
    reached it yet). When the extension reaches that day it makes the rule's other slots of
    the day, around the override, on clock-change days too; before, it skipped the whole day
    while `generated_through` moved past it, so those hours were never offered."""

    @pytest.mark.parametrize(
        ("today", "day", "override_local", "expected"),
        [
            (date(2027, 1, 4), date(2027, 2, 7), time(2), ["00:00", "01:00", "03:00", "04:00"]),
            # Clocks go forward at 01:00: no 01:00 that day.
            (date(2027, 3, 1), date(2027, 3, 28), time(3), ["00:00", "02:00", "04:00"]),
            # Clocks go back at 02:00: 01:00 happens twice, the rule's slot is the first.
            (date(2027, 10, 4), date(2027, 10, 31), time(2), ["00:00", "01:00", "03:00", "04:00"]),
        ],
        ids=["ordinary day", "clocks forward", "clocks back"],
    )
    def test_the_rest_of_the_day_is_generated_around_it(
        self, today, day, override_local, expected, doctor, patient, admin_user, settings
    ):
        settings.BOOKING_HORIZON_DAYS = 14
        with time_machine.travel(datetime.combine(today, time(8), tzinfo=LONDON), tick=False):
            rule = weekly_rule_create(
                doctor=doctor,
                day_of_week=6,
                start_time=time(0),
                end_time=time(5),
                effective_from=today,
            )
            override_start = datetime.combine(day, override_local, tzinfo=LONDON)
            override = appointment_book_override(
                actor=admin_user,
                patient=patient,
                doctor=doctor,
                start=override_start,
                end=override_start + timedelta(hours=1),
            )
            settings.BOOKING_HORIZON_DAYS = 60
            slots_extend()

        rule.refresh_from_db()
        assert rule.generated_through >= day
        generated = Slot.objects.filter(window__weekly_rule=rule, window__rule_date=day)
        assert [t[-5:] for t in local_times(generated.order_by("start"))] == expected
        wanted = set(rule_slot_times(rule=rule, day=day)) - {(override.start, override.end)}
        assert {(s.start, s.end) for s in generated} == wanted
        assert Slot.objects.get(pk=override.slot_id).window.is_override
        slots = list(Slot.objects.filter(doctor=doctor).order_by("start"))
        assert all(a.end <= b.start for a, b in pairwise(slots))


@pytest.mark.usefixtures("london")
class TestDaylightSavingDays:
    def _rule(self, start: time, end: time) -> WeeklyRule:
        return WeeklyRule(
            day_of_week=6, start_time=start, end_time=end, effective_from=date(2027, 1, 1)
        )

    def test_a_wall_time_skipped_by_the_clocks_gives_no_slot(self):
        # 2027-03-28: clocks go from 01:00 GMT to 02:00 BST; 01:00-02:00 never happens.
        times = rule_slot_times(rule=self._rule(time(0), time(3)), day=date(2027, 3, 28))
        assert [start.astimezone(LONDON).strftime("%H:%M") for start, _ in times] == [
            "00:00",
            "02:00",
        ]
        assert all(end - start == timedelta(hours=1) for start, end in times)

    def test_a_wall_time_shown_twice_gives_one_slot(self):
        # 2027-10-31: clocks go back from 02:00 BST to 01:00 GMT; 01:00-02:00 happens twice.
        times = rule_slot_times(rule=self._rule(time(0), time(3)), day=date(2027, 10, 31))
        local = [start.astimezone(LONDON) for start, _ in times]
        assert [t.strftime("%H:%M") for t in local] == ["00:00", "01:00", "02:00"]
        assert local[1].fold == 0
        assert all(a[1] <= b[0] for a, b in pairwise(times))


@pytest.mark.django_db(transaction=True)
def test_two_extensions_at_the_same_moment_create_no_duplicate(settings):
    settings.BOOKING_HORIZON_DAYS = 60
    doctor = DoctorFactory()
    rules = [
        WeeklyRule.objects.create(
            doctor=doctor,
            day_of_week=day,
            start_time=time(9),
            end_time=time(12),
            effective_from=date.today(),
        )
        for day in range(5)
    ]
    made = run_at_once([slots_extend, slots_extend, slots_extend])
    windows = AvailabilityWindow.objects.filter(weekly_rule__in=rules)
    assert sum(made) == windows.count()
    assert windows.count() == len({(w.weekly_rule_id, w.rule_date) for w in windows})
    assert windows.count() >= 5 * 8
