"""Where the schema and the validation used to disagree (tests/fuzz found them): the API now
refuses exactly what its schema says is malformed, and accepts what it says is well formed."""

import pytest
import yaml
from django.conf import settings
from rest_framework.test import APIClient

from tests.conftest import client_for, error_attrs, error_codes
from tests.factories import PASSWORD, in_future

pytestmark = pytest.mark.django_db


def _refused_on(response, attr: str) -> list[str]:
    assert response.status_code == 400, response.content
    assert attr in error_attrs(response), response.json()
    return error_codes(response)


@pytest.mark.parametrize("page_size", ["abc", "1.5", "0", "-1"])
def test_a_page_size_that_is_not_a_whole_number_of_one_or_more_is_400(anon_client, page_size):
    response = anon_client.get("/api/v1/specializations/", {"page_size": page_size})
    assert _refused_on(response, "page_size") == ["invalid"]


def test_an_empty_page_size_is_the_default(anon_client):
    assert anon_client.get("/api/v1/specializations/", {"page_size": ""}).status_code == 200


@pytest.mark.parametrize(("field", "value"), [("name", 0), ("name", ["x"])])
def test_a_body_value_of_another_json_type_is_400(admin_client, field, value):
    response = admin_client.post("/api/v1/specializations/", {field: value}, format="json")
    assert _refused_on(response, field) == ["invalid"]


def test_an_integer_with_a_fraction_is_400(admin_client, doctor):
    response = admin_client.patch(
        f"/api/v1/doctors/{doctor.pk}/", {"years_of_experience": 5.0}, format="json"
    )
    assert _refused_on(response, "years_of_experience") == ["invalid"]


def test_a_query_integer_is_read_as_one(anon_client):
    response = anon_client.get("/api/v1/slots/", {"specialization": "1.0"})
    assert _refused_on(response, "specialization") == ["invalid"]


@pytest.mark.parametrize("unread", ["maybe", "1", "null", "True"])
def test_unread_is_true_or_false(patient_client, unread):
    response = patient_client.get("/api/v1/notifications/", {"unread": unread})
    assert _refused_on(response, "unread") == ["invalid"]


@pytest.mark.parametrize("day", ["2027-1-4", "20270104", "2027-W01-1", "01/04/2027"])
def test_a_day_is_written_yyyy_mm_dd(anon_client, admin_client, day):
    _refused_on(anon_client.get("/api/v1/slots/", {"date_from": day}), "date_from")
    _refused_on(admin_client.get("/api/v1/appointments/", {"date_from": day}), "date_from")


def test_a_time_is_rfc_3339_lowercase_letters_included(doctor_client):
    start = in_future(days=3).replace(hour=9)
    end = start.replace(hour=11)
    response = doctor_client.post(
        "/api/v1/availability/",
        {
            "start": start.strftime("%Y-%m-%dt%H:%M:%Sz"),
            "end": end.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        },
    )
    assert response.status_code == 201, response.json()
    response = doctor_client.post(
        "/api/v1/availability/", {"start": start.strftime("%Y-%m-%d %H:%M:%SZ"), "end": end}
    )
    _refused_on(response, "start")


def test_a_weekly_rule_time_is_clinic_local_without_an_offset(doctor_client):
    rule = {
        "day_of_week": 0,
        "start_time": "09:00+05:00",
        "end_time": "11:00",
        "effective_from": in_future(days=1).date().isoformat(),
    }
    _refused_on(doctor_client.post("/api/v1/availability/weekly/", rule), "start_time")


def test_a_booking_names_a_slot_unless_it_is_an_override(patient_client):
    response = patient_client.post("/api/v1/appointments/", {"reason": "checkup"})
    assert _refused_on(response, "slot") == ["required"]


@pytest.mark.parametrize("key", ["a key with spaces", "ключ", ""])
def test_an_idempotency_key_is_visible_ascii(patient_client, key):
    response = patient_client.post(
        "/api/v1/appointments/",
        {"slot": "00000000-0000-0000-0000-000000000000"},
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert _refused_on(response, "Idempotency-Key") == ["invalid"]


def test_a_nul_in_the_sign_in_username_is_400_not_a_server_error(db):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "ada\x00", "password": PASSWORD}, format="json"
    )
    assert _refused_on(response, "username") == ["null_characters_not_allowed"]


def test_a_new_password_states_its_minimum_length(patient):
    response = client_for(patient.user).post(
        "/api/v1/auth/password/", {"old_password": PASSWORD, "new_password": "short"}
    )
    assert _refused_on(response, "new_password") == ["min_length"]


def test_the_body_limit_admits_every_body_the_schema_admits():
    """Every string a body may carry is bounded, and the longest body, each character JSON-escaped
    as a surrogate pair (12 bytes), fits the limit: only a body no endpoint accepts meets it."""
    schema = yaml.safe_load(APIClient().get("/api/schema/").content)
    components = schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if "requestBody" not in operation:
                continue
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            body = components[ref.rsplit("/", 1)[-1]]
            # A body of several shapes (a booking) is a oneOf of one component per shape.
            for shape in [components[s["$ref"].rsplit("/", 1)[-1]] for s in body.get("oneOf", [])]:
                _assert_fits_the_limit(f"{method} {path}", shape["properties"])
            if "properties" in body:
                _assert_fits_the_limit(f"{method} {path}", body["properties"])


def _assert_fits_the_limit(operation: str, properties: dict) -> None:
    longest = 0
    for name, prop in properties.items():
        anchored = prop.get("pattern", "").startswith("^") and prop["pattern"].endswith("$")
        if prop.get("type") == "string" and "format" not in prop and not anchored:
            assert "maxLength" in prop, f"{operation}: {name} is unbounded"
            longest += 12 * prop["maxLength"]
        longest += 100  # the name, a bounded value (id, time, number), punctuation
    assert longest <= settings.MAX_REQUEST_BODY_BYTES, f"{operation}: {longest}"
