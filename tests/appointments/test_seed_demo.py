"""`manage.py seed_demo`: a demo clinic in every status, made once however often it runs."""

import re
from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from accounts.models import User
from appointments.management.commands import seed_demo
from appointments.models import (
    Appointment,
    AppointmentStatus,
    AppointmentStatusChange,
    Feedback,
    Penalty,
)
from doctors.models import Doctor, Specialization
from patients.models import Patient
from scheduling.models import AvailabilityWindow, Holiday, Slot, TimeOff, WeeklyRule

MODELS = [
    User,
    Specialization,
    Doctor,
    Patient,
    WeeklyRule,
    AvailabilityWindow,
    Slot,
    TimeOff,
    Holiday,
    Appointment,
    AppointmentStatusChange,
    Feedback,
    Penalty,
]


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model._default_manager.count() for model in MODELS}


@pytest.mark.django_db
def test_seed_demo_fills_a_clinic_once_and_prints_the_sign_ins():
    first_output = seed()
    first = counts()
    second_output = seed()

    assert counts() == first
    statuses = set(Appointment.objects.values_list("status", flat=True))
    assert statuses == set(AppointmentStatus.values)
    assert first["Doctor"] == len(seed_demo.DOCTORS)
    assert first["Patient"] == len(seed_demo.PATIENTS)
    assert first["Feedback"] > 0
    assert Penalty.objects.filter(resolved=True).exists()
    assert Penalty.objects.filter(resolved=False).exists()
    assert Doctor.objects.exclude(rating=None).count() == len(seed_demo.DOCTORS)
    # Every penalty belongs to a no-show, every appointment has its history.
    assert Penalty.objects.exclude(appointment__status="no_show").count() == 0
    assert not Appointment.objects.filter(history=None).exists()

    admin = User.objects.get(username=seed_demo.ADMIN_USERNAME)
    assert admin.is_superuser
    assert admin.check_password(seed_demo.ADMIN_PASSWORD)
    doctor = Doctor.objects.get(user__username="dr.okafor")
    assert doctor.user.check_password(seed_demo.DOCTOR_PASSWORD)
    for username, password in [
        ("admin", seed_demo.ADMIN_PASSWORD),
        ("dr.okafor", seed_demo.DOCTOR_PASSWORD),
        ("alice.morgan", seed_demo.PATIENT_PASSWORD),
    ]:
        assert re.search(rf"^  {re.escape(username)} +{password} ", first_output, re.M)
    assert re.search(r"^Doctors +\[#{30}\] 8/8$", first_output, re.M), "no progress bar"
    assert seed_demo.ADMIN_PASSWORD not in second_output
    assert "already there, none added" in second_output


@pytest.mark.django_db
def test_seed_demo_runs_where_the_leave_starts_on_a_day_without_a_midnight(settings):
    """The demo doctor's leave starts at the clinic's midnight five weeks ahead. In Santiago
    clocks jump from 00:00 to 01:00 on 6 September 2026, so that day has no midnight: the leave
    starts when the day does, at 01:00, and ends as the eighth day starts."""
    settings.CLINIC_TIME_ZONE = "America/Santiago"
    zone = ZoneInfo("America/Santiago")
    with time_machine.travel(datetime(2026, 8, 2, 12, tzinfo=zone), tick=False):
        seed()

    leave = TimeOff.objects.get(reason="Annual leave")
    assert leave.start.astimezone(zone) == datetime(2026, 9, 6, 1, tzinfo=zone)
    assert leave.end.astimezone(zone) == datetime(2026, 9, 13, tzinfo=zone)
