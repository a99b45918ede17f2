"""One client address for every per-client rule (core.request.client_ip): the throttles, the
sign-in lockout and the audit log. `X-Forwarded-For` counts only behind trusted proxies, and
then only the entry the outermost proxy appended (API.md, "Additions of v1")."""

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from rest_framework.test import APIClient

from audit.models import AuditLog
from core.request import client_ip
from tests.conftest import error_codes
from tests.factories import PASSWORD, PatientFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
REGISTER_URL = "/api/v1/patients/"
PROXY = "10.0.0.2"  # the reverse proxy, as the app sees the connection
CLIENT = "203.0.113.50"  # the client, as the proxy saw it


@pytest.fixture(autouse=True)
def fresh_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def behind_proxy(settings):
    settings.USE_X_FORWARDED_FOR = True
    settings.TRUSTED_PROXY_COUNT = 1
    return settings


def forged(n: int, client: str = CLIENT) -> dict:
    """A request through the proxy from `client`, whose own X-Forwarded-For says it is someone
    new each time (the proxy appends the address it saw)."""
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": f"198.51.100.{n}, {client}"}


def rotated(n: int) -> dict:
    """A direct request whose X-Forwarded-For names someone new each time."""
    return {"REMOTE_ADDR": CLIENT, "HTTP_X_FORWARDED_FOR": f"198.51.100.{n}"}


@pytest.mark.parametrize(
    ("trusted", "hops", "forwarded_for", "expected"),
    [
        (False, 1, None, "192.0.2.1"),
        (False, 1, "198.51.100.9", "192.0.2.1"),
        (True, 1, "198.51.100.9", "198.51.100.9"),
        (True, 1, "198.51.100.9, 203.0.113.50", "203.0.113.50"),
        (True, 1, "1.1.1.1,2.2.2.2 ,  203.0.113.50", "203.0.113.50"),
        (True, 2, "1.1.1.1, 203.0.113.50, 10.0.0.9", "203.0.113.50"),
        (True, 1, "2001:db8::1", "2001:db8::1"),
        # Fewer entries than proxies, or no address where the proxy writes one: not through
        # the proxies as configured, so the connection's address.
        (True, 2, "203.0.113.50", "192.0.2.1"),
        (True, 1, None, "192.0.2.1"),
        (True, 1, "", "192.0.2.1"),
        (True, 1, "198.51.100.9, unknown", "192.0.2.1"),
        (True, 1, "198.51.100.9, 203.0.113.50:443", "192.0.2.1"),
    ],
)
def test_the_client_address_is_never_one_the_client_wrote(
    settings, trusted, hops, forwarded_for, expected
):
    settings.USE_X_FORWARDED_FOR = trusted
    settings.TRUSTED_PROXY_COUNT = hops
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for is not None else {}
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", **headers)
    assert client_ip(request) == expected


def register(n: int, **extra):
    body = {
        "username": f"newcomer{n}",
        "email": f"newcomer{n}@example.test",
        "password": PASSWORD,
        "first_name": "New",
        "last_name": "Comer",
        "date_of_birth": "1990-01-01",
    }
    return APIClient().post(REGISTER_URL, body, **extra)


def test_rotating_x_forwarded_for_does_not_escape_the_registration_throttle(settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "register": "2/hour"}
    statuses = [register(n, **rotated(n)).status_code for n in range(4)]
    assert statuses == [201, 201, 429, 429]


def test_behind_a_proxy_the_registration_throttle_counts_the_address_the_proxy_saw(
    behind_proxy,
):
    behind_proxy.THROTTLE_RATES = {**behind_proxy.THROTTLE_RATES, "register": "2/hour"}
    statuses = [register(n, **forged(n)).status_code for n in range(4)]
    assert statuses == [201, 201, 429, 429]
    # Another client behind the same proxy has a counter of its own.
    assert register(9, **forged(9, client="203.0.113.77")).status_code == 201


def sign_in(username: str, password: str = PASSWORD, **extra):
    return APIClient().post(TOKEN_URL, {"username": username, "password": password}, **extra)


def test_rotating_x_forwarded_for_does_not_escape_the_sign_in_throttle(settings, patient):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "sign_in": "2/minute"}
    statuses = [sign_in(patient.user.username, **rotated(n)).status_code for n in range(4)]
    assert statuses == [200, 200, 429, 429]


def test_behind_a_proxy_the_sign_in_throttle_counts_the_address_the_proxy_saw(
    behind_proxy, patient
):
    behind_proxy.THROTTLE_RATES = {**behind_proxy.THROTTLE_RATES, "sign_in": "2/minute"}
    statuses = [sign_in(patient.user.username, **forged(n)).status_code for n in range(4)]
    assert statuses == [200, 200, 429, 429]
    other_client = sign_in(patient.user.username, **forged(9, client="203.0.113.77"))
    assert other_client.status_code == 200


def test_behind_a_proxy_the_lockout_locks_the_address_the_proxy_saw(behind_proxy, patient):
    for n in range(5):
        response = sign_in(f"guess{n}", "wrong-password", **forged(n))
        assert response.status_code == 401, response.json()

    locked = sign_in(patient.user.username, **forged(42))
    assert locked.status_code == 429, locked.json()
    assert error_codes(locked) == ["throttled"]
    assert sign_in(patient.user.username, **forged(42, client="203.0.113.77")).status_code == 200


def test_without_a_trusted_proxy_the_lockout_ignores_x_forwarded_for(settings, patient):
    for n in range(5):
        assert sign_in(f"guess{n}", "wrong-password", **rotated(n)).status_code == 401
    assert sign_in(patient.user.username, **rotated(42)).status_code == 429


@pytest.mark.parametrize(
    ("trusted", "expected"), [(False, PROXY), (True, CLIENT)], ids=["direct", "behind_proxy"]
)
def test_audit_entries_carry_the_client_address(settings, trusted, expected):
    settings.USE_X_FORWARDED_FOR = trusted
    user = PatientFactory().user
    assert sign_in(user.username, **forged(1)).status_code == 200
    assert sign_in(user.username, "wrong-password", **forged(2)).status_code == 401

    entries = AuditLog.objects.filter(action__in=["sign_in", "sign_in_failed"])
    assert sorted(entries.values_list("action", "ip")) == [
        ("sign_in", expected),
        ("sign_in_failed", expected),
    ]
