"""Ids: every response carries a request id (a well-formed one from the client is echoed),
and the resources' ids in bodies are UUIDs."""

import re

import pytest

from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

PATIENTS_URL = "/api/v1/patients/"
HEALTH_URL = "/api/v1/health/"


def test_every_response_carries_a_request_id(anon_client, admin_client):
    ids = set()
    for response in (
        anon_client.get(HEALTH_URL),
        anon_client.get("/api/v1/auth/me/"),
        admin_client.get("/api/v1/no-such-resource/"),
        anon_client.get("/api/redoc/"),
    ):
        assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"]), response
        ids.add(response["X-Request-ID"])
    assert len(ids) == 4


def test_a_well_formed_request_id_is_echoed_and_a_bad_one_replaced(anon_client):
    given = anon_client.get(HEALTH_URL, HTTP_X_REQUEST_ID="support-ticket-1234")
    assert given["X-Request-ID"] == "support-ticket-1234"
    forged = anon_client.get(HEALTH_URL, HTTP_X_REQUEST_ID="<script>alert(1)</script>")
    assert forged["X-Request-ID"] != "<script>alert(1)</script>"
    assert re.fullmatch(r"[0-9a-f]{32}", forged["X-Request-ID"])


def test_ids_in_bodies_are_uuids(admin_client):
    patient = PatientFactory()
    body = admin_client.get(f"{PATIENTS_URL}{patient.pk}/").json()
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", body["id"])
