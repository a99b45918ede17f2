"""Every route of the API, for every kind of caller, with the status they must get.

Callers: anonymous, patient A, patient B, doctor X, doctor Y, a blacklisted doctor (whose
token was issued before the blacklisting) and an admin. The world: A has appointments with X
(pending, confirmed, ended, completed), a no-show penalty and a waitlist entry for X with an
open offer; B and Y have nothing to do with them. A route or method without a row fails
`test_every_route_has_a_row`.
"""

import itertools
from datetime import date, time, timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from appointments.models import Penalty
from appointments.services import series_book
from calendars.services import calendar_feed_create
from core.clinic_time import clinic_zone
from doctors.services import doctor_blacklist
from notifications.services import notification_create
from scheduling.models import AvailabilityWindow, Slot
from scheduling.services import holiday_create, time_off_create, weekly_rule_create
from tests.conftest import client_for
from tests.factories import (
    PASSWORD,
    AdminUserFactory,
    AppointmentFactory,
    DoctorFactory,
    PatientFactory,
    SpecializationFactory,
    in_future,
)
from tests.routes import api_routes
from tests.schedule import window_published
from tests.webhooks.receiver import SECRET
from waitlist.models import WaitlistOffer
from waitlist.services import waitlist_join
from webhooks.models import WebhookDelivery, WebhookEvent
from webhooks.services import webhook_endpoint_create

ROLES = ["anon", "patient_a", "patient_b", "doctor_x", "doctor_y", "blacklisted", "admin"]
_counter = itertools.count()


def status_row(anon, patient_a, patient_b, doctor_x, doctor_y, blacklisted, admin) -> dict:
    return dict(
        zip(
            ROLES, (anon, patient_a, patient_b, doctor_x, doctor_y, blacklisted, admin), strict=True
        )
    )


def everyone(code: int, *, anon: int | None = None, blacklisted: int = 401) -> dict:
    return status_row(code if anon is None else anon, code, code, code, code, blacklisted, code)


def admin_only(success: int) -> dict:
    return status_row(401, 403, 403, 403, 403, 401, success)


def schedule_owner(success: int, *, other_doctor: int) -> dict:
    """Rows of doctor X's schedule: X and admins act, Y sees nothing, patients may not."""
    return status_row(401, 403, 403, success, other_doctor, 401, success)


class World:
    def __init__(self):
        self.specialization = SpecializationFactory(name="Cardiology")
        self.unused_specialization = SpecializationFactory(name="Unused")
        self.patient_a, self.patient_b = PatientFactory(), PatientFactory()
        self.doctor_x = DoctorFactory(specialization=self.specialization)
        self.doctor_y = DoctorFactory(specialization=self.specialization)
        self.blacklisted = DoctorFactory()
        self.admin = AdminUserFactory()
        users = {
            "patient_a": self.patient_a.user,
            "patient_b": self.patient_b.user,
            "doctor_x": self.doctor_x.user,
            "doctor_y": self.doctor_y.user,
            "blacklisted": self.blacklisted.user,
            "admin": self.admin,
        }
        self.refresh = {role: str(RefreshToken.for_user(user)) for role, user in users.items()}
        self.clients = {role: client_for(user) for role, user in users.items()}
        self.clients["anon"] = client_for()
        doctor_blacklist(doctor=self.blacklisted, reason="Matrix")

        x = self.doctor_x
        base = in_future(days=3).replace(hour=8)
        window = window_published(x, start=base, hours=3)
        first, second, third = window.slots.order_by("start")
        self.pending = AppointmentFactory(
            patient=self.patient_a, doctor=x, slot=first, status="pending"
        )
        self.confirmed = AppointmentFactory(patient=self.patient_a, doctor=x, slot=second)
        self.free_slot = third
        self.free_window = window_published(x, start=base + timedelta(days=1), hours=2)
        self.ended = self._past(x, hours_ago=3, status="confirmed")
        self.completed = self._past(x, hours_ago=6, status="completed")
        no_show = self._past(x, hours_ago=9, status="no_show")
        self.penalty = Penalty.objects.create(patient=self.patient_a, appointment=no_show)
        self.rule = weekly_rule_create(
            doctor=x,
            day_of_week=6,
            start_time=time(9),
            end_time=time(10),
            effective_from=timezone.localdate(),
        )
        self.time_off = time_off_create(
            doctor=x, start=base + timedelta(days=5), end=base + timedelta(days=5, hours=2)
        )
        # A is waiting for X on a later day; the window published then is held for A.
        held_day = base + timedelta(days=2)
        self.waitlist_entry = waitlist_join(
            patient=self.patient_a, doctor=x, date_from=held_day.date(), date_to=held_day.date()
        )
        window_published(x, start=held_day, hours=1)
        self.offer = WaitlistOffer.objects.get(entry=self.waitlist_entry)
        self.holiday = holiday_create(day=date.today() + timedelta(days=60), name="Founders' day")
        # Two weekly slots of X for a new series, and a series of A's with X to see and cancel.
        evening = base.replace(hour=20)
        self.series_slot = window_published(
            x, start=evening + timedelta(days=2), hours=1
        ).slots.get()
        window_published(x, start=evening + timedelta(days=9), hours=1)
        window_published(x, start=evening + timedelta(days=3), hours=1)
        window_published(x, start=evening + timedelta(days=10), hours=1)
        self.series = series_book(
            actor=self.patient_a.user,
            patient=self.patient_a,
            slot_id=Slot.objects.get(start=evening + timedelta(days=3)).pk,
            every_weeks=1,
            count=2,
        )
        self.notification = notification_create(
            recipient=self.patient_a.user,
            kind="reminder",
            appointment_id=self.confirmed.pk,
            title="Reminder",
            body="Your appointment is tomorrow.",
        )
        self.calendar_feed, self.calendar_token = calendar_feed_create(owner=self.patient_a.user)
        self.location_id = "clinic"
        self.slot_day = third.start.astimezone(clinic_zone()).date().isoformat()
        self.webhook = webhook_endpoint_create(
            url="https://ehr.example.org/hooks", events=["appointment.booked"], secret=SECRET
        )
        self.delivery = WebhookDelivery.objects.create(
            event=WebhookEvent.objects.create(type="appointment.booked", data={}),
            endpoint=self.webhook,
            status="sent",
            attempts=1,
        )

    def _past(self, doctor, *, hours_ago, status):
        start = timezone.now().replace(microsecond=0) - timedelta(hours=hours_ago)
        window = AvailabilityWindow.objects.create(
            doctor=doctor, start=start, end=start + timedelta(hours=1)
        )
        slot = Slot.objects.create(doctor=doctor, window=window, start=window.start, end=window.end)
        return AppointmentFactory(patient=self.patient_a, doctor=doctor, slot=slot, status=status)


def _window_body(w):
    start = in_future(days=20).replace(hour=9)
    return {
        "doctor": str(w.doctor_x.pk),
        "start": start.isoformat(),
        "end": (start + timedelta(hours=2)).isoformat(),
    }


def _waitlist_body(w):
    day = (timezone.now() + timedelta(days=10)).date().isoformat()
    # A patient's `patient` is ignored (they join for themselves); an admin's names B.
    return {
        "doctor": str(w.doctor_x.pk),
        "date_from": day,
        "date_to": day,
        "patient": str(w.patient_b.pk),
    }


def _register_body(w):
    n = next(_counter)
    return {
        "username": f"newcomer{n}",
        "email": f"newcomer{n}@example.test",
        "password": PASSWORD,
        "first_name": "New",
        "last_name": "Comer",
        "date_of_birth": "1990-01-01",
    }


def _doctor_body(w):
    n = next(_counter)
    return {
        "username": f"newdoc{n}",
        "email": f"newdoc{n}@example.test",
        "password": PASSWORD,
        "first_name": "Ada",
        "last_name": "Doc",
        "specialization": w.specialization.pk,
        "license_number": f"NEW-{n}",
        "years_of_experience": 3,
    }


# (method, route, path arguments, body, expected status per caller)
MATRIX = [
    (
        "post",
        "auth/token/",
        {},
        lambda w: {"username": w.patient_a.user.username, "password": PASSWORD},
        everyone(200, blacklisted=200),
    ),
    (
        "post",
        "auth/token/refresh/",
        {},
        lambda w: {"refresh": w.refresh["patient_a"]},
        everyone(200, blacklisted=200),
    ),
    ("post", "auth/logout/", {}, "own_refresh", everyone(204, anon=401)),
    ("get", "auth/me/", {}, None, everyone(200, anon=401)),
    (
        "post",
        "auth/password/",
        {},
        lambda w: {"old_password": PASSWORD, "new_password": "an0ther-Long-pass"},
        everyone(204, anon=401),
    ),
    ("get", "patients/", {}, None, everyone(200, anon=401)),
    ("post", "patients/", {}, _register_body, everyone(201)),
    (
        "get",
        "patients/<uuid:pk>/",
        {"pk": "patient_a"},
        None,
        status_row(401, 200, 404, 200, 404, 401, 200),
    ),
    (
        "patch",
        "patients/<uuid:pk>/",
        {"pk": "patient_a"},
        lambda w: {"contact_number": "+44 1"},
        status_row(401, 200, 404, 403, 404, 401, 200),
    ),
    (
        "get",
        "patients/<uuid:pk>/medical-record/",
        {"pk": "patient_a"},
        None,
        status_row(401, 200, 404, 200, 404, 401, 200),
    ),
    (
        "patch",
        "patients/<uuid:pk>/medical-record/",
        {"pk": "patient_a"},
        lambda w: {"allergies": "Latex"},
        status_row(401, 403, 404, 200, 404, 401, 200),
    ),
    ("get", "specializations/", {}, None, everyone(200)),
    (
        "post",
        "specializations/",
        {},
        lambda w: {"name": f"Field {next(_counter)}"},
        admin_only(201),
    ),
    ("get", "specializations/<int:pk>/", {"pk": "unused_specialization"}, None, everyone(200)),
    (
        "patch",
        "specializations/<int:pk>/",
        {"pk": "unused_specialization"},
        lambda w: {"name": "Renamed"},
        admin_only(200),
    ),
    ("delete", "specializations/<int:pk>/", {"pk": "unused_specialization"}, None, admin_only(204)),
    ("get", "doctors/", {}, None, everyone(200)),
    ("post", "doctors/", {}, _doctor_body, admin_only(201)),
    ("get", "doctors/<uuid:pk>/", {"pk": "doctor_x"}, None, everyone(200)),
    (
        "patch",
        "doctors/<uuid:pk>/",
        {"pk": "doctor_x"},
        lambda w: {"bio": "Cardiologist."},
        status_row(401, 403, 403, 200, 403, 401, 200),
    ),
    (
        "post",
        "doctors/<uuid:pk>/blacklist/",
        {"pk": "doctor_x"},
        lambda w: {"reason": "Review"},
        admin_only(200),
    ),
    ("post", "doctors/<uuid:pk>/unblacklist/", {"pk": "blacklisted"}, None, admin_only(200)),
    ("get", "doctors/<uuid:pk>/slots/", {"pk": "doctor_x"}, None, everyone(200)),
    ("get", "doctors/<uuid:pk>/feedback/", {"pk": "doctor_x"}, None, everyone(200)),
    ("get", "slots/", {}, None, everyone(200)),
    ("get", "availability/", {}, None, schedule_owner(200, other_doctor=200)),
    ("post", "availability/", {}, _window_body, schedule_owner(201, other_doctor=201)),
    (
        "get",
        "availability/<uuid:pk>/",
        {"pk": "free_window"},
        None,
        schedule_owner(200, other_doctor=404),
    ),
    (
        "delete",
        "availability/<uuid:pk>/",
        {"pk": "free_window"},
        None,
        schedule_owner(204, other_doctor=404),
    ),
    ("get", "availability/weekly/", {}, None, schedule_owner(200, other_doctor=200)),
    (
        "post",
        "availability/weekly/",
        {},
        lambda w: {
            "doctor": str(w.doctor_x.pk),
            "day_of_week": 5,
            "start_time": "09:00",
            "end_time": "10:00",
            "effective_from": str(date.today()),
        },
        schedule_owner(201, other_doctor=201),
    ),
    (
        "get",
        "availability/weekly/<uuid:pk>/",
        {"pk": "rule"},
        None,
        schedule_owner(200, other_doctor=404),
    ),
    (
        "delete",
        "availability/weekly/<uuid:pk>/",
        {"pk": "rule"},
        None,
        schedule_owner(204, other_doctor=404),
    ),
    ("get", "time-off/", {}, None, schedule_owner(200, other_doctor=200)),
    (
        "post",
        "time-off/",
        {},
        lambda w: {
            "doctor": str(w.doctor_x.pk),
            "start": in_future(days=30).isoformat(),
            "end": in_future(days=31).isoformat(),
            "reason": "Leave",
        },
        schedule_owner(201, other_doctor=201),
    ),
    ("get", "time-off/<uuid:pk>/", {"pk": "time_off"}, None, schedule_owner(200, other_doctor=404)),
    (
        "delete",
        "time-off/<uuid:pk>/",
        {"pk": "time_off"},
        None,
        schedule_owner(204, other_doctor=404),
    ),
    ("get", "holidays/", {}, None, everyone(200)),
    (
        "post",
        "holidays/",
        {},
        lambda w: {"date": str(date.today() + timedelta(days=70)), "name": "Closed"},
        admin_only(201),
    ),
    ("get", "holidays/<uuid:pk>/", {"pk": "holiday"}, None, everyone(200)),
    ("delete", "holidays/<uuid:pk>/", {"pk": "holiday"}, None, admin_only(204)),
    ("get", "appointments/", {}, None, everyone(200, anon=401)),
    (
        "post",
        "appointments/",
        {},
        lambda w: {"slot": str(w.free_slot.pk), "patient": str(w.patient_a.pk)},
        status_row(401, 201, 201, 403, 403, 401, 201),
    ),
    (
        "get",
        "appointments/<uuid:pk>/",
        {"pk": "confirmed"},
        None,
        status_row(401, 200, 404, 200, 404, 401, 200),
    ),
    (
        "get",
        "appointments/<uuid:pk>/history/",
        {"pk": "confirmed"},
        None,
        status_row(401, 200, 404, 200, 404, 401, 200),
    ),
    (
        "post",
        "appointments/<uuid:pk>/confirm/",
        {"pk": "pending"},
        None,
        status_row(401, 403, 404, 200, 404, 401, 200),
    ),
    (
        "post",
        "appointments/<uuid:pk>/reject/",
        {"pk": "pending"},
        lambda w: {"reason": "Full"},
        status_row(401, 403, 404, 200, 404, 401, 200),
    ),
    (
        "post",
        "appointments/<uuid:pk>/cancel/",
        {"pk": "confirmed"},
        None,
        status_row(401, 200, 404, 200, 404, 401, 200),
    ),
    (
        "post",
        "appointments/<uuid:pk>/reschedule/",
        {"pk": "confirmed"},
        lambda w: {"slot": str(w.free_slot.pk)},
        status_row(401, 201, 404, 403, 404, 401, 201),
    ),
    (
        "post",
        "appointments/<uuid:pk>/complete/",
        {"pk": "ended"},
        lambda w: {"diagnosis": "Fine", "treatment_notes": "None"},
        status_row(401, 403, 404, 200, 404, 401, 200),
    ),
    (
        "post",
        "appointments/<uuid:pk>/no-show/",
        {"pk": "ended"},
        None,
        status_row(401, 403, 404, 200, 404, 401, 200),
    ),
    (
        "post",
        "appointments/<uuid:pk>/feedback/",
        {"pk": "completed"},
        lambda w: {"rating": 5},
        status_row(401, 201, 404, 403, 404, 401, 403),
    ),
    ("get", "appointment-series/", {}, None, everyone(200, anon=401)),
    (
        "post",
        "appointment-series/",
        {},
        lambda w: {
            "slot": str(w.series_slot.pk),
            "every_weeks": 1,
            "count": 2,
            "patient": str(w.patient_a.pk),
        },
        status_row(401, 201, 201, 403, 403, 401, 201),
    ),
    (
        "get",
        "appointment-series/<uuid:pk>/",
        {"pk": "series"},
        None,
        status_row(401, 200, 404, 200, 404, 401, 200),
    ),
    (
        "post",
        "appointment-series/<uuid:pk>/cancel/",
        {"pk": "series"},
        None,
        status_row(401, 200, 404, 200, 404, 401, 200),
    ),
    ("get", "penalties/", {}, None, everyone(200, anon=401)),
    ("post", "penalties/<uuid:pk>/resolve/", {"pk": "penalty"}, None, admin_only(200)),
    ("get", "reports/no-shows/", {}, None, admin_only(200)),
    ("get", "reports/appointments/", {}, None, admin_only(200)),
    ("get", "reports/doctors/", {}, None, admin_only(200)),
    ("get", "health/", {}, None, everyone(200, blacklisted=200)),
    ("get", "waitlist/", {}, None, everyone(200, anon=401)),
    ("post", "waitlist/", {}, _waitlist_body, status_row(401, 201, 201, 403, 403, 401, 201)),
    (
        "delete",
        "waitlist/<uuid:pk>/",
        {"pk": "waitlist_entry"},
        None,
        status_row(401, 204, 404, 403, 403, 401, 204),
    ),
    ("get", "waitlist/offers/", {}, None, everyone(200, anon=401)),
    (
        "post",
        "waitlist/offers/<uuid:pk>/accept/",
        {"pk": "offer"},
        None,
        status_row(401, 201, 404, 403, 403, 401, 201),
    ),
    (
        "post",
        "waitlist/offers/<uuid:pk>/decline/",
        {"pk": "offer"},
        None,
        status_row(401, 200, 404, 403, 403, 401, 200),
    ),
    ("get", "audit-logs/", {}, None, admin_only(200)),
    ("get", "webhooks/", {}, None, admin_only(200)),
    (
        "post",
        "webhooks/",
        {},
        lambda w: {
            "url": "https://billing.example.org/events",
            "events": ["appointment.booked", "penalty.created"],
            "secret": SECRET,
        },
        admin_only(201),
    ),
    ("get", "webhooks/<uuid:pk>/", {"pk": "webhook"}, None, admin_only(200)),
    (
        "patch",
        "webhooks/<uuid:pk>/",
        {"pk": "webhook"},
        lambda w: {"is_active": False},
        admin_only(200),
    ),
    ("delete", "webhooks/<uuid:pk>/", {"pk": "webhook"}, None, admin_only(204)),
    ("get", "webhooks/<uuid:pk>/deliveries/", {"pk": "webhook"}, None, admin_only(200)),
    (
        "post",
        "webhooks/deliveries/<uuid:pk>/redeliver/",
        {"pk": "delivery"},
        None,
        admin_only(202),
    ),
    ("get", "notifications/", {}, None, everyone(200, anon=401)),
    ("get", "calendar-feeds/", {}, None, everyone(200, anon=401)),
    ("post", "calendar-feeds/", {}, None, status_row(401, 201, 201, 201, 201, 401, 403)),
    (
        "delete",
        "calendar-feeds/<uuid:pk>/",
        {"pk": "calendar_feed"},
        None,
        status_row(401, 204, 404, 404, 404, 401, 204),
    ),
    # The token in the address is the credential: a stale JWT is not even looked at.
    (
        "get",
        "ics/<str:token>.ics",
        {"token": "calendar_token"},
        None,
        everyone(200, blacklisted=200),
    ),
    (
        "post",
        "notifications/<uuid:pk>/read/",
        {"pk": "notification"},
        None,
        status_row(401, 200, 404, 404, 404, 401, 404),
    ),
    ("get", "fhir/R4/metadata", {}, None, everyone(200)),
    ("get", "fhir/R4/Practitioner", {}, None, everyone(200)),
    ("get", "fhir/R4/Practitioner/<str:pk>", {"pk": "doctor_x"}, None, everyone(200)),
    ("get", "fhir/R4/Schedule", {}, None, everyone(200)),
    ("get", "fhir/R4/Schedule/<str:pk>", {"pk": "doctor_x"}, None, everyone(200)),
    ("get", "fhir/R4/Slot", {}, None, everyone(200)),
    ("get", "fhir/R4/Slot/<str:pk>", {"pk": "free_slot"}, None, everyone(200)),
    ("get", "fhir/R4/Location", {}, None, everyone(200)),
    ("get", "fhir/R4/Location/<str:pk>", {"pk": "location_id"}, None, everyone(200)),
    ("get", "fhir/R4/Appointment", {}, None, everyone(200, anon=401)),
    (
        "get",
        "fhir/R4/Appointment/<str:pk>",
        {"pk": "confirmed"},
        None,
        status_row(401, 200, 404, 200, 404, 401, 200),
    ),
    # SMART Scheduling Links: open to all, credentials not even looked at.
    ("get", "fhir/R4/$bulk-publish", {}, None, everyone(200, blacklisted=200)),
    ("get", "fhir/R4/$bulk-publish/locations.ndjson", {}, None, everyone(200, blacklisted=200)),
    ("get", "fhir/R4/$bulk-publish/schedules.ndjson", {}, None, everyone(200, blacklisted=200)),
    (
        "get",
        "fhir/R4/$bulk-publish/slots/<str:day>.ndjson",
        {"day": "slot_day"},
        None,
        everyone(200, blacklisted=200),
    ),
]


def _route_methods() -> set[tuple[str, str]]:
    found = set()
    for route, callback in api_routes():
        actions = getattr(callback, "actions", None)
        if actions:
            view_class = callback.cls
            # HEAD mirrors GET; OPTIONS is DRF's metadata: neither has a rule of its own.
            methods = {m for m in actions if m in view_class.http_method_names} - {
                "head",
                "options",
            }
        else:
            view_class = callback.view_class
            methods = {
                m for m in ("get", "post", "put", "patch", "delete") if hasattr(view_class, m)
            }
        found |= {(method, route) for method in methods}
    return found


def test_every_route_has_a_row():
    rows = {(method, route) for method, route, *_ in MATRIX}
    assert _route_methods() - rows == set(), "routes without a row in the matrix"
    assert rows - _route_methods() == set(), "rows for routes that do not exist"


def _path(route: str, args: dict, world: World) -> str:
    path = route
    for name, attr in args.items():
        value = getattr(world, attr)
        text = value if isinstance(value, str) else str(value.pk)
        for converter in ("uuid", "int", "str"):
            path = path.replace(f"<{converter}:{name}>", text)
    return f"/api/v1/{path}"


class _Rollback(Exception):
    pass


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "route", "args", "body", "expected"),
    MATRIX,
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_the_matrix(method, route, args, body, expected):
    world = World()
    mismatches = {}
    for role in ROLES:
        try:
            with transaction.atomic():
                if body == "own_refresh":
                    payload = {"refresh": world.refresh.get(role, "")}
                else:
                    payload = body(world) if body else None
                client = world.clients[role]
                response = getattr(client, method)(_path(route, args, world), payload)
                if response.status_code != expected[role]:
                    mismatches[role] = (
                        response.status_code,
                        expected[role],
                        response.content[:200],
                    )
                raise _Rollback
        except _Rollback:
            pass
    assert mismatches == {}
