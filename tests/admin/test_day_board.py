"""The Day board for reception: one clinic day of every doctor, and the moves made from it
through the same services as the API's (history, audit, notifications, every rule)."""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appointments.models import Appointment
from appointments.services import appointment_book
from audit.models import AuditLog
from core.clinic_time import clinic_zone
from tests.factories import DoctorFactory, PatientFactory, UserFactory, in_future
from tests.schedule import window_published
from tests.waitlist.world import cancel, entry_for

pytestmark = pytest.mark.django_db
BOARD = reverse("admin:day_board")


@pytest.fixture
def staff(client, admin_user):
    client.force_login(admin_user)
    return client


def day_at(hour: int, days: int = 3) -> datetime:
    """`hour` o'clock, clinic time, `days` from today."""
    day = (in_future(days=days)).astimezone(clinic_zone()).date()
    return datetime.combine(day, time(hour), tzinfo=clinic_zone())


def clinic_day(doctors: int, *, booked_each: int = 2):
    """`doctors` doctors with a 09:00-13:00 window each on the day three days ahead, the first
    `booked_each` slots of each booked by a patient of their own."""
    start = day_at(9)
    made = []
    for n in range(doctors):
        doctor = DoctorFactory.create(requires_approval=n % 2 == 0)
        slots = list(window_published(doctor, start=start, hours=4).slots.order_by("start"))
        for slot in slots[:booked_each]:
            patient = PatientFactory.create()
            appointment_book(actor=patient.user, patient=patient, slot_id=slot.pk)
        made.append(doctor)
    return start.date(), made


def board(staff, day):
    return staff.get(BOARD, {"date": day.isoformat()})


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_day_shows_each_doctors_slots_appointments_and_free_hours(staff):
    day, doctors = clinic_day(3)

    response = board(staff, day)

    assert response.status_code == 200
    html = response.content.decode()
    for doctor in doctors:
        assert str(doctor) in html
    assert html.count('class="free"') == 3 * 2
    assert html.count('class="pending"') == 2 * 2  # doctors 0 and 2 confirm their bookings
    assert html.count('class="confirmed"') == 2
    for appointment in Appointment.objects.select_related("patient__user"):
        assert str(appointment.patient) in html
    assert ">09:00<" in html
    assert ">12:00<" in html


def test_its_queries_do_not_grow_with_the_doctors(staff):
    day, _ = clinic_day(2)
    with CaptureQueriesContext(connection) as few:
        assert board(staff, day).status_code == 200
    clinic_day(18)  # 20 doctors now, 160 slots, 40 appointments
    with CaptureQueriesContext(connection) as many:
        response = board(staff, day)

    assert response.content.decode().count('class="free"') == 20 * 2
    assert len(many) == len(few)
    assert len(many) <= 8, [q["sql"][:120] for q in many.captured_queries]


def test_confirm_cancel_and_no_show_go_through_the_services(staff, admin_user):
    day, _ = clinic_day(1)
    first, second = Appointment.objects.order_by("start")
    for appointment, action in ((first, "confirm"), (second, "cancel")):
        response = staff.post(
            BOARD, {"date": day.isoformat(), "appointment": appointment.pk, "action": action}
        )
        assert response.status_code == 302
        assert response.url == f"{BOARD}?date={day.isoformat()}"

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("confirmed", "cancelled")
    assert first.history.last().actor == admin_user
    assert second.history.last().note == "At reception."
    assert first.patient.user.notifications.filter(title="Appointment confirmed").exists()

    with time_machine.travel(first.end + timedelta(minutes=1), tick=False):
        staff.force_login(admin_user)
        page = board(staff, day).content.decode()
        assert 'value="no_show"' in page
        staff.post(BOARD, {"date": day.isoformat(), "appointment": first.pk, "action": "no_show"})
    first.refresh_from_db()
    assert first.status == "no_show"
    assert first.penalty.kind == "no_show"


def test_a_free_slot_is_booked_for_a_patient_named_by_username_or_email(staff, admin_user):
    day, (doctor,) = clinic_day(1)
    patient = PatientFactory(user__username="nora.reed")
    free = doctor.slots.filter(is_booked=False).order_by("start")

    for name in ("NORA.REED", patient.user.email.upper()):
        slot = free.first()
        response = staff.post(BOARD, {"date": day.isoformat(), "slot": slot.pk, "patient": name})
        assert response.status_code == 302
        booked = Appointment.objects.get(slot=slot)
        assert (booked.patient, booked.created_by) == (patient, admin_user)
    assert AuditLog.objects.filter(target_type="appointment", action="create").count() == 4


@pytest.mark.parametrize(
    ("post", "message"),
    [
        ({"patient": "nobody.here"}, "No patient is called 'nobody.here'."),
        ({"patient": "taken"}, "That slot is not free."),
        ({"patient": ""}, "This field is required."),
    ],
)
def test_a_refused_booking_says_why_and_changes_nothing(staff, post, message):
    day, _ = clinic_day(1)
    PatientFactory(user__username="taken")
    taken = Appointment.objects.order_by("start").first().slot
    before = Appointment.objects.count()

    response = staff.post(BOARD, {"date": day.isoformat(), "slot": taken.pk, **post}, follow=True)

    assert message in said(response)
    assert Appointment.objects.count() == before


def test_a_move_the_table_refuses_is_an_error_message(staff):
    day, _ = clinic_day(1)
    pending = Appointment.objects.filter(status="pending").first() or Appointment.objects.first()
    staff.post(BOARD, {"date": day.isoformat(), "appointment": pending.pk, "action": "cancel"})

    response = staff.post(
        BOARD,
        {"date": day.isoformat(), "appointment": pending.pk, "action": "confirm"},
        follow=True,
    )

    assert any("cannot be moved" in text for text in said(response))
    pending.refresh_from_db()
    assert pending.status == "cancelled"


def test_only_staff_with_the_appointment_permission_see_it(client):
    clerk = UserFactory(is_staff=True)
    client.force_login(clerk)
    assert client.get(BOARD).status_code == 403
    client.logout()
    assert client.get(BOARD).status_code == 302  # to the sign-in page


def test_a_slot_held_for_a_waitlist_offer_shows_whom_it_is_held_for(staff):
    day, (doctor,) = clinic_day(1)
    waiting = PatientFactory(user__first_name="Wanda", user__last_name="Wait")
    entry_for(waiting, doctor, day=day)
    booked = Appointment.objects.order_by("start").first()
    with CaptureQueriesContext(connection) as before:
        board(staff, day)

    cancel(booked)
    with CaptureQueriesContext(connection) as after:
        html = board(staff, day).content.decode()

    assert html.count('class="held"') == 1
    assert "Held for Wanda Wait" in html
    assert len(after) == len(before)
