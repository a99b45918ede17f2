"""Every mutating endpoint, called by a caller allowed to use it, leaves exactly the audit
entries expected of it (action and target type), with the caller as actor."""

import pytest
from django.db import transaction

from audit.models import AuditLog
from tests.test_authorization_matrix import MATRIX, World, _path

WINDOWS = ("create", "availabilitywindow")

EXPECTED = {
    ("post", "auth/token/"): [("sign_in", "user")],
    ("post", "auth/token/refresh/"): [],
    ("post", "auth/logout/"): [("logout", "user")],
    ("post", "auth/password/"): [("password_change", "user")],
    ("post", "patients/"): [("create", "user"), ("create", "patient")],
    ("patch", "patients/<uuid:pk>/"): [("update", "patient")],
    ("patch", "patients/<uuid:pk>/medical-record/"): [
        ("update", "patient"),
        ("read", "medical_record"),
    ],
    ("post", "specializations/"): [("create", "specialization")],
    ("patch", "specializations/<int:pk>/"): [("update", "specialization")],
    ("delete", "specializations/<int:pk>/"): [("delete", "specialization")],
    ("post", "doctors/"): [("create", "user"), ("create", "doctor")],
    ("patch", "doctors/<uuid:pk>/"): [("update", "doctor")],
    ("post", "doctors/<uuid:pk>/blacklist/"): [("blacklist", "doctor")],
    ("post", "doctors/<uuid:pk>/unblacklist/"): [("unblacklist", "doctor")],
    ("post", "availability/"): [WINDOWS],
    ("delete", "availability/<uuid:pk>/"): [
        ("delete", "availabilitywindow"),
        ("delete", "slot"),
    ],
    # A weekly rule makes one window per matching day through the horizon.
    ("post", "availability/weekly/"): [("create", "weeklyrule"), WINDOWS, ...],
    # ... and removing it removes each upcoming window with its slots, then the rule.
    ("delete", "availability/weekly/<uuid:pk>/"): lambda actual: (
        len(actual) >= 3
        and actual[-1] == ("delete", "weeklyrule")
        and actual[:-1]
        == [("delete", "availabilitywindow"), ("delete", "slot")] * (len(actual) // 2)
    ),
    ("post", "time-off/"): [("create", "timeoff")],
    ("delete", "time-off/<uuid:pk>/"): [("delete", "timeoff")],
    ("post", "holidays/"): [("create", "holiday")],
    ("delete", "holidays/<uuid:pk>/"): [("delete", "holiday")],
    ("post", "appointments/"): [("create", "appointment")],
    ("post", "appointments/<uuid:pk>/confirm/"): [("transition", "appointment")],
    ("post", "appointments/<uuid:pk>/reject/"): [("transition", "appointment")],
    ("post", "appointments/<uuid:pk>/cancel/"): [("transition", "appointment")],
    ("post", "appointments/<uuid:pk>/reschedule/"): [
        ("transition", "appointment"),
        ("create", "appointment"),
    ],
    ("post", "appointments/<uuid:pk>/complete/"): [
        ("transition", "appointment"),
        ("update", "appointment"),
        ("read", "appointment"),
    ],
    ("post", "appointments/<uuid:pk>/no-show/"): [
        ("transition", "appointment"),
        ("create", "penalty"),
    ],
    ("post", "appointments/<uuid:pk>/feedback/"): [("create", "feedback"), ("update", "doctor")],
    ("post", "appointment-series/"): [
        ("create", "appointmentseries"),
        ("create", "appointment"),
        ("create", "appointment"),
    ],
    ("post", "appointment-series/<uuid:pk>/cancel/"): [
        ("transition", "appointment"),
        ("transition", "appointment"),
        ("cancel", "appointmentseries"),
    ],
    ("post", "penalties/<uuid:pk>/resolve/"): [("resolve", "penalty")],
    ("post", "notifications/<uuid:pk>/read/"): [],
    ("post", "waitlist/"): [("create", "waitlistentry")],
    # Leaving the waitlist declines the entry's open offer (nobody else waits for its slot).
    ("delete", "waitlist/<uuid:pk>/"): [("update", "waitlistentry"), ("update", "waitlistoffer")],
    ("post", "waitlist/offers/<uuid:pk>/accept/"): [
        ("create", "appointment"),
        ("update", "waitlistoffer"),
        ("update", "waitlistentry"),
    ],
    ("post", "waitlist/offers/<uuid:pk>/decline/"): [("update", "waitlistoffer")],
    ("post", "calendar-feeds/"): [("create", "calendarfeed")],
    ("delete", "calendar-feeds/<uuid:pk>/"): [("revoke", "calendarfeed")],
    ("post", "webhooks/"): [("create", "webhookendpoint")],
    ("patch", "webhooks/<uuid:pk>/"): [("update", "webhookendpoint")],
    ("delete", "webhooks/<uuid:pk>/"): [("delete", "webhookendpoint")],
    ("post", "webhooks/deliveries/<uuid:pk>/redeliver/"): [("redeliver", "webhookdelivery")],
}

MUTATING = [row for row in MATRIX if row[0] in ("post", "patch", "delete")]


def _matches(expected, actual: list) -> bool:
    """`...` in `expected` stands for any number of repeats of the entry before it; a
    callable judges the whole list."""
    if callable(expected):
        return expected(actual)
    if ... not in expected:
        return actual == expected
    position = 0
    for index, item in enumerate(expected):
        if item is ...:
            while position < len(actual) and actual[position] == expected[index - 1]:
                position += 1
            continue
        if position >= len(actual) or actual[position] != item:
            return False
        position += 1
    return position == len(actual)


def test_every_mutating_route_has_an_expectation():
    assert {(method, route) for method, route, *_ in MUTATING} == set(EXPECTED)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "route", "args", "body", "expected_status"),
    MUTATING,
    ids=[f"{m} {r}" for m, r, *_ in MUTATING],
)
def test_the_expected_entries_appear(method, route, args, body, expected_status):
    world = World()
    role = next(r for r in ("admin", "doctor_x", "patient_a") if expected_status[r] < 300)
    payload = (
        {"refresh": world.refresh[role]}
        if body == "own_refresh"
        else (body(world) if body else None)
    )
    since = AuditLog.objects.count()
    with transaction.atomic():
        response = getattr(world.clients[role], method)(_path(route, args, world), payload)
    assert response.status_code == expected_status[role], response.content[:300]
    entries = list(AuditLog.objects.order_by("at", "id")[since:])
    actual = [(entry.action, entry.target_type) for entry in entries]
    assert _matches(EXPECTED[(method, route)], actual), actual
    caller = {
        "admin": world.admin,
        "doctor_x": world.doctor_x.user,
        "patient_a": world.patient_a.user,
    }[role]
    # A sign-in is made by the account signing in, whoever sent the request.
    assert {e.actor_id for e in entries if e.action != "sign_in"} <= {caller.pk}
