"""What an outside fuzz run (schemathesis and hand-made requests) found: each is a clear 4xx in
the error envelope that changes nothing, never a 500."""

import base64
import re

import pytest
from django.apps import apps
from django.conf import settings
from django.core import serializers as django_serializers
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator

from audit.models import AuditLog
from tests.conftest import client_for, error_codes
from tests.factories import PASSWORD, PatientFactory
from tests.test_authorization_matrix import MATRIX, ROLES, World, _path

pytestmark = pytest.mark.django_db

CAREFUL_APPS = (
    "accounts",
    "doctors",
    "patients",
    "scheduling",
    "appointments",
    "audit",
    "notifications",
    "token_blacklist",
)


def _database_state(*, reads_too: bool = True) -> str:
    """Every row of every CareSlot table (and the token blacklist), audit log included; without
    `reads_too`, less the audit entries of reads (showing a medical record is recorded)."""
    models = [m for m in apps.get_models() if m._meta.app_label in CAREFUL_APPS]
    rows = [m._default_manager.order_by("pk") for m in models]
    if not reads_too:
        rows = [r.exclude(action="read") if r.model is AuditLog else r for r in rows]
    return "".join(django_serializers.serialize("json", r) for r in rows)


def _nested(depth: int) -> bytes:
    """A JSON object whose one value is `depth - 1` arrays deep: `depth` levels in all."""
    return b'{"username": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


# Deep JSON --------------------------------------------------------------------------------------


@pytest.fixture
def signed_in_patient():
    patient = PatientFactory()
    return patient, client_for(patient.user)


def _json_endpoints(patient, patient_client):
    """(client, method, url) for JSON endpoints reached signed out and signed in."""
    anon = client_for()
    return [
        (anon, "post", "/api/v1/auth/token/"),
        (anon, "post", "/api/v1/auth/token/refresh/"),
        (anon, "post", "/api/v1/patients/"),
        (patient_client, "post", "/api/v1/appointments/"),
        (patient_client, "patch", f"/api/v1/patients/{patient.pk}/"),
        (patient_client, "post", "/api/v1/auth/password/"),
    ]


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_json_nested_deeper_than_the_limit_is_a_parse_error_everywhere(signed_in_patient, depth):
    patient, patient_client = signed_in_patient
    body = _nested(depth)
    assert len(body) < settings.MAX_REQUEST_BODY_BYTES
    before = _database_state()
    for client, method, url in _json_endpoints(patient, patient_client):
        response = getattr(client, method)(url, data=body, content_type="application/json")
        assert response.status_code == 400, (method, url, response.status_code)
        assert error_codes(response) == ["parse_error"], (method, url)
        assert "nested" in response.json()["errors"][0]["detail"]
    assert _database_state() == before


def test_json_nested_to_the_limit_is_read_and_judged_by_the_serializer(signed_in_patient):
    patient, _ = signed_in_patient
    at_limit = _nested(settings.MAX_JSON_DEPTH)
    response = client_for().post("/api/v1/auth/token/", at_limit, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"  # read; a list is not a username

    deeper = _nested(settings.MAX_JSON_DEPTH + 1)
    response = client_for().post("/api/v1/auth/token/", deeper, content_type="application/json")
    assert error_codes(response) == ["parse_error"]

    sign_in = {"username": patient.user.username, "password": PASSWORD}
    assert client_for().post("/api/v1/auth/token/", sign_in).status_code == 200


# Cursors ----------------------------------------------------------------------------------------


def _cursor(querystring: str) -> str:
    return base64.b64encode(querystring.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "cD14",  # p=x, the fuzz run's own
        _cursor("p="),
        _cursor("p=2026-13-45T99:00:00Z"),
        _cursor("p=%00"),
        _cursor("o=1&p=yesterday"),
        _cursor("r=1&p=x"),
        _cursor("r=x"),
        "not base64 at all",
    ],
)
def test_a_cursor_that_cannot_be_read_is_a_404(admin_client, cursor):
    admin_client.get("/api/v1/specializations/")  # something in the log besides nothing
    before = _database_state()
    response = admin_client.get("/api/v1/audit-logs/", {"cursor": cursor})
    assert response.status_code == 404, response.content[:300]
    assert error_codes(response) == ["not_found"]
    assert _database_state() == before


def test_the_cursors_the_api_hands_out_still_page(admin_client):
    for number in range(3):
        admin_client.post("/api/v1/specializations/", {"name": f"Speciality {number}"})
    first = admin_client.get("/api/v1/audit-logs/", {"page_size": 2}).json()
    second = admin_client.get(first["next"]).json()
    assert len(first["results"]) == 2
    assert second["results"]
    assert {e["id"] for e in first["results"]}.isdisjoint(e["id"] for e in second["results"])


# Empty PATCH bodies -----------------------------------------------------------------------------


def _patch_operations() -> set[str]:
    """The path of every PATCH operation in the schema, as `/api/v1/patients/{}/`."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        re.sub(r"\{[^}]+\}", "{}", path)
        for path, operations in schema["paths"].items()
        if "patch" in operations
    }


def _matrix_route(route: str) -> str:
    return "/api/v1/" + re.sub(r"<[^>]+>", "{}", route)


PATCH_ROWS = [row for row in MATRIX if row[0] == "patch"]


def test_every_patch_operation_of_the_schema_is_swept():
    assert _patch_operations() == {_matrix_route(route) for _, route, *_ in PATCH_ROWS}


class _Rollback(Exception):
    pass


@pytest.mark.parametrize(
    ("route", "args", "expected"),
    [(route, args, expected) for _, route, args, _, expected in PATCH_ROWS],
    ids=[route for _, route, *_ in PATCH_ROWS],
)
def test_an_empty_patch_changes_nothing_for_every_role_allowed_to_send_it(route, args, expected):
    world = World()
    allowed = [role for role in ROLES if expected[role] == 200]
    assert allowed
    url = _path(route, args, world)
    for role in allowed:
        before = _database_state(reads_too=False)
        try:
            with transaction.atomic():
                response = world.clients[role].patch(url, {}, format="json")
                after = _database_state(reads_too=False)
                raise _Rollback
        except _Rollback:
            pass
        assert response.status_code == 200, (role, response.status_code, response.content[:300])
        assert after == before, role
        assert response.json() == world.clients[role].get(url).json(), role
