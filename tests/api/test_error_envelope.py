"""Every 4xx and 5xx answers one envelope, `{"type", "errors": [{"code", "detail", "attr"}]}`,
with DRF's codes for the framework's errors and nothing of the server's internals."""

import pytest
from rest_framework.test import APIClient

from tests.api.envelope import envelope
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

PATIENTS_URL = "/api/v1/patients/"
SPECIALIZATIONS_URL = "/api/v1/specializations/"


def test_400_is_a_validation_error_per_field(anon_client):
    errors = envelope(anon_client.post(PATIENTS_URL, {"email": "nope"}), 400, "validation_error")
    by_attr = {error["attr"]: error["code"] for error in errors}
    assert by_attr["email"] == "invalid"
    assert by_attr["username"] == "required"


def test_400_for_a_body_that_is_not_json(anon_client):
    response = anon_client.post(PATIENTS_URL, "{not json", content_type="application/json")
    errors = envelope(response, 400, "client_error")
    assert errors[0]["code"] == "parse_error"


def test_401_without_credentials_carries_a_bearer_challenge(anon_client):
    response = anon_client.get("/api/v1/auth/me/")
    errors = envelope(response, 401, "client_error")
    assert errors == [
        {
            "code": "not_authenticated",
            "detail": "Authentication credentials were not provided.",
            "attr": None,
        }
    ]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_401_for_a_bad_token_is_one_error_not_one_per_key(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    response = client.get("/api/v1/auth/me/")
    errors = envelope(response, 401, "client_error")
    assert len(errors) == 1
    assert errors[0]["code"] == "token_not_valid"
    assert errors[0]["attr"] is None
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_401_for_an_inactive_users_token(patient):
    client = client_for(patient.user)
    patient.user.is_active = False
    patient.user.save()
    errors = envelope(client.get("/api/v1/auth/me/"), 401, "client_error")
    assert [(e["code"], e["attr"]) for e in errors] == [("user_inactive", None)]


def test_403(patient_client):
    errors = envelope(patient_client.post(SPECIALIZATIONS_URL, {"name": "X"}), 403, "client_error")
    assert [(e["code"], e["attr"]) for e in errors] == [("permission_denied", None)]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/no-such-resource/",
        "/api/v1/no-such-resource",
        "/api/v1/patients/not-a-uuid/",
        "/api/v1/doctors/00000000-0000-0000-0000-000000000000/",
        "/api/v1/specializations/424242/",
    ],
)
def test_404(admin_client, path):
    errors = envelope(admin_client.get(path), 404, "client_error")
    assert [(e["code"], e["attr"]) for e in errors] == [("not_found", None)]


def test_404_outside_the_api_is_not_json(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_405(patient, patient_client):
    response = patient_client.put(f"{PATIENTS_URL}{patient.pk}/", {})
    errors = envelope(response, 405, "client_error")
    assert errors[0]["code"] == "method_not_allowed"
    assert "PUT" not in response["Allow"]


def test_415_for_a_body_that_is_not_json(anon_client):
    response = anon_client.post(PATIENTS_URL, "username=x", content_type="text/plain")
    errors = envelope(response, 415, "client_error")
    assert errors[0]["code"] == "unsupported_media_type"


def test_429_from_the_sign_in_lockout(patient):
    client = APIClient()
    for _ in range(5):
        client.post("/api/v1/auth/token/", {"username": patient.user.username, "password": "x"})
    response = client.post(
        "/api/v1/auth/token/", {"username": patient.user.username, "password": "x"}
    )
    errors = envelope(response, 429, "client_error")
    assert errors[0]["code"] == "throttled"
    assert int(response["Retry-After"]) > 0


def test_500_in_a_view_is_a_server_error_envelope_without_internals(monkeypatch):
    def crash(**kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr("patients.services.patient_register", crash)
    client = APIClient(raise_request_exception=False)
    response = client.post(
        PATIENTS_URL,
        {
            "username": "crash.test",
            "email": "crash@example.test",
            "password": "a-long-enough-password-1",
            "first_name": "C",
            "last_name": "T",
            "date_of_birth": "1990-01-01",
        },
    )
    errors = envelope(response, 500, "server_error")
    assert [(e["code"], e["attr"]) for e in errors] == [("error", None)]
    text = response.content.decode()
    for leak in ("hunter2", "RuntimeError", "Traceback", "patients/services.py"):
        assert leak not in text


def test_500_outside_a_view_is_a_server_error_envelope_too(monkeypatch):
    def crash(request):
        raise RuntimeError("middleware secret")

    # The request-context middleware runs before any view, outside DRF's exception handling.
    monkeypatch.setattr("core.request.client_ip", crash)
    response = APIClient(raise_request_exception=False).get(SPECIALIZATIONS_URL)
    errors = envelope(response, 500, "server_error")
    assert errors[0]["attr"] is None
    assert "middleware secret" not in response.content.decode()
