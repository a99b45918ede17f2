"""What an outside fuzz run (schemathesis and hand-made requests) found: each is a clear 4xx in
the error envelope that changes nothing, never a 500."""

import pytest
from django.apps import apps
from django.conf import settings
from django.core import serializers as django_serializers

from audit.models import AuditLog
from tests.conftest import client_for, error_codes
from tests.factories import PASSWORD, PatientFactory

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
    rows = [m.objects.order_by("pk") for m in models]
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
