"""The FHIR API answers as its schema says (regressions found by tests/fuzz): the search
parameters' documented bounds and forms are the ones the server reads, an empty parameter is
left out, and every error comes in a media type the operation documents."""

import re
from pathlib import Path

import pytest
import yaml

from fhir_api import search
from tests.fhir_api.fhir import outcome_codes

pytestmark = pytest.mark.django_db

BASE = "/api/v1/fhir/R4"
SCHEMA = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi.yaml").read_text())


def _operation(path: str) -> dict:
    return SCHEMA["paths"][f"{BASE}/{path}"]["get"]


def _parameter(path: str, name: str) -> dict:
    return next(p for p in _operation(path)["parameters"] if p["name"] == name)


def _documented(path: str, response) -> bool:
    documented = _operation(path)["responses"][str(response.status_code)]["content"]
    return response["Content-Type"].split(";")[0] in documented


@pytest.mark.parametrize("resource", ["Appointment", "Practitioner", "Schedule", "Slot"])
def test_the_page_bounds_are_documented_as_enforced(resource, admin_client):
    assert _parameter(resource, "_count")["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
    }
    assert _parameter(resource, "_offset")["schema"]["maximum"] == search.MAX_OFFSET

    refused = admin_client.get(f"{BASE}/{resource}", {"_count": 0})
    assert refused.status_code == 400
    assert outcome_codes(refused) == ["invalid"]
    assert _documented(resource, refused)
    assert admin_client.get(f"{BASE}/{resource}", {"_count": 100}).status_code == 200
    assert admin_client.get(f"{BASE}/{resource}", {"_count": 101}).status_code == 400


def test_empty_search_parameters_are_left_out(anon_client, admin_client):
    # FHIR ignores a parameter with no value; `start=` used to be a 400.
    slots = anon_client.get(
        f"{BASE}/Slot?_count=&_offset=&schedule=&start=&start=ge2026-01-01&status="
    )
    assert slots.status_code == 200, slots.content
    appointments = admin_client.get(f"{BASE}/Appointment?date=&patient=&practitioner=&status=")
    assert appointments.status_code == 200, appointments.content


@pytest.mark.parametrize("offset", ["+20:00", "-23:59"])
def test_an_instant_with_an_offset_beyond_postgresqls_is_read(anon_client, offset):
    # Python reads offsets to ±23:59, PostgreSQL only to ±15:59: this was a 500.
    response = anon_client.get(f"{BASE}/Slot", {"start": f"ge2026-12-01T00:00:00{offset}"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("2026-12-01", True),
        ("ge2026-12-01T09:00:00Z", True),
        ("lt2199-12-31T23:59:59.5+14:00", True),
        ("2026-02-29", False),  # not a date; the pattern leaves out every 29 February
        ("2026-13-01", False),
        ("2026-12-01T09:00:00", False),  # an instant needs its offset
        ("1899-12-31", False),
    ],
)
def test_the_date_pattern_admits_only_what_the_server_reads(anon_client, value, accepted):
    pattern = _parameter("Slot", "start")["schema"]["items"]["pattern"]
    assert bool(re.search(pattern, value)) is accepted
    if accepted:
        assert anon_client.get(f"{BASE}/Slot", {"start": value}).status_code == 200


def test_errors_are_fhir_json_as_documented(anon_client):
    unknown = anon_client.get(f"{BASE}/Slot/00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404
    assert unknown["Content-Type"] == "application/fhir+json"
    assert _documented("Slot/{id}", unknown)

    signed_out = anon_client.get(f"{BASE}/Appointment")
    assert signed_out.status_code == 401
    assert signed_out["Content-Type"] == "application/fhir+json"
    assert _documented("Appointment", signed_out)


def test_a_nul_character_is_refused_before_the_view_as_documented(anon_client):
    response = anon_client.get(f"{BASE}/Slot", {"status": "free\x00"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert _documented("Slot", response)


@pytest.mark.parametrize("resource", ["Appointment", "Schedule", "Slot"])
def test_a_read_ignores_the_query(resource, admin_client):
    # A read takes no search parameters: none documented, whatever is sent is not read.
    assert not [p for p in _operation(f"{resource}/{{id}}")["parameters"] if p["in"] == "query"]
    response = admin_client.get(
        f"{BASE}/{resource}/00000000-0000-0000-0000-000000000000"
        "?_offset=x&_offset=-1&_count=0&start=%FF"
    )
    assert response.status_code == 404
    assert _documented(f"{resource}/{{id}}", response)


def test_a_bulk_file_error_is_documented_as_ndjson(anon_client):
    response = anon_client.get(f"{BASE}/$bulk-publish/slots/0.ndjson")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/fhir+ndjson"
    assert _documented("$bulk-publish/slots/{day}.ndjson", response)
