"""Hostile and malformed input: each answers a clear 4xx in the error envelope, and the
database is exactly as it was."""

import json
import uuid

import pytest
from django.apps import apps
from django.core import serializers as django_serializers

from tests.conftest import client_for, error_codes
from tests.factories import AppointmentFactory, DoctorFactory, PatientFactory, in_future
from tests.schedule import slot_published

pytestmark = pytest.mark.django_db

BOOK = "/api/v1/appointments/"


def _database_state() -> str:
    models = [
        m
        for m in apps.get_models()
        if m._meta.app_label in ("accounts", "doctors", "patients", "scheduling", "appointments")
    ]
    return "".join(
        django_serializers.serialize("json", m._default_manager.order_by("pk")) for m in models
    )


@pytest.fixture
def world():
    patient = PatientFactory()
    doctor = DoctorFactory()
    return {
        "patient": patient,
        "doctor": doctor,
        "slot": slot_published(doctor),
        "theirs": AppointmentFactory(),
        "client": client_for(patient.user),
        "doctor_client": client_for(doctor.user),
    }


def _assert_refused(response, status: int | tuple = 400):
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    assert error_codes(response)  # the envelope, with at least one code


def _raw(client, method, url, body: bytes, content_type="application/json"):
    return getattr(client, method)(url, data=body, content_type=content_type)


class TestBodies:
    @pytest.mark.parametrize(
        "body",
        [b"{", b'{"slot": }', b"[1, 2", b"\xff\xfe", b'{"slot": "a"}{"slot": "b"}', b"NaN"],
    )
    def test_malformed_json(self, world, body):
        before = _database_state()
        response = _raw(world["client"], "post", BOOK, body)
        _assert_refused(response)
        assert error_codes(response) == ["parse_error"]
        assert _database_state() == before

    @pytest.mark.parametrize(
        "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
    )
    def test_wrong_content_type(self, world, content_type):
        before = _database_state()
        body = json.dumps({"slot": str(world["slot"].pk)}).encode()
        response = _raw(world["client"], "post", BOOK, body, content_type=content_type)
        _assert_refused(response, 415)
        assert _database_state() == before

    @pytest.mark.parametrize(
        "body",
        [
            {"slot": 12},
            {"slot": ["a"]},
            {"slot": {"id": "x"}},
            {"slot": True},
            {"reason": 5, "slot": None},
            [],
            "a string",
            123,
        ],
    )
    def test_wrong_json_types(self, world, body):
        before = _database_state()
        _assert_refused(world["client"].post(BOOK, body))
        assert _database_state() == before

    def test_nul_bytes_in_a_body(self, world):
        before = _database_state()
        response = world["client"].post(
            BOOK, {"slot": str(world["slot"].pk), "reason": "cough\x00; DROP TABLE"}
        )
        _assert_refused(response)
        assert _database_state() == before

    @pytest.mark.parametrize("value", [10**30, -(10**30), 2**63, 1e308])
    def test_huge_numbers(self, world, value):
        appointment = AppointmentFactory(patient=world["patient"], status="completed")
        before = _database_state()
        response = world["client"].post(f"{BOOK}{appointment.pk}/feedback/", {"rating": value})
        _assert_refused(response)
        assert _database_state() == before

    @pytest.mark.parametrize(
        "value",
        [
            "2026-02-30T10:00:00Z",
            "2026-13-01T10:00:00Z",
            "2026-12-01T25:00:00Z",
            "2026-12-01T10:00:00",
            "yesterday",
            "",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2026-12-01T10:00:00+25:00",
        ],
    )
    def test_naive_impossible_and_extreme_datetimes(self, world, value):
        before = _database_state()
        response = world["doctor_client"].post(
            "/api/v1/availability/", {"start": value, "end": "2026-12-01T12:00:00Z"}
        )
        _assert_refused(response)
        assert _database_state() == before

    @pytest.mark.parametrize("days", [800, 3650, 36500])
    def test_far_future_schedules(self, world, days):
        start = in_future(days=days).replace(hour=9)
        stranger = client_for(PatientFactory().user)
        before = _database_state()
        response = world["doctor_client"].post(
            "/api/v1/availability/",
            {"start": start.isoformat(), "end": start.replace(hour=12).isoformat()},
        )
        _assert_refused(response)
        holiday = stranger.post("/api/v1/holidays/", {"date": "2999-01-01", "name": "x"})
        _assert_refused(holiday, (400, 403))
        assert _database_state() == before

    @pytest.mark.parametrize("field", ["reason", "first_name"])
    def test_very_long_strings(self, world, field):
        before = _database_state()
        if field == "reason":
            response = world["client"].post(
                BOOK, {"slot": str(world["slot"].pk), "reason": "x" * 5000}
            )
        else:
            response = world["client"].patch(
                f"/api/v1/patients/{world['patient'].pk}/", {"first_name": "x" * 5000}
            )
        _assert_refused(response)
        assert _database_state() == before

    def test_unknown_fields(self, world):
        before = _database_state()
        response = world["client"].post(BOOK, {"slot": str(world["slot"].pk), "slott": "x"})
        _assert_refused(response)
        assert error_codes(response) == ["unknown_field"]
        assert _database_state() == before


class TestIdentifiers:
    @pytest.mark.parametrize(
        "path",
        [
            "/api/v1/appointments/not-a-uuid/",
            "/api/v1/appointments/1/",
            "/api/v1/appointments/' OR 1=1 --/",
            "/api/v1/patients/%00/",
            "/api/v1/specializations/99999999999999999999999/",
            "/api/v1/specializations/-1/",
        ],
    )
    def test_invalid_ids_in_paths_are_404(self, world, path):
        response = world["client"].get(path)
        _assert_refused(response, 404)

    def test_other_peoples_ids_in_paths_are_404(self, world):
        theirs = world["theirs"]
        before = _database_state()
        for method, suffix in [
            ("get", ""),
            ("post", "cancel/"),
            ("post", "reschedule/"),
            ("get", "history/"),
        ]:
            response = getattr(world["client"], method)(f"{BOOK}{theirs.pk}/{suffix}", {})
            _assert_refused(response, 404)
        _assert_refused(
            world["client"].get(f"/api/v1/patients/{theirs.patient_id}/medical-record/"), 404
        )
        assert _database_state() == before

    def test_unknown_ids_in_bodies(self, world):
        mine = AppointmentFactory(patient=world["patient"])
        before = _database_state()
        response = world["client"].post(
            f"{BOOK}{mine.pk}/reschedule/",
            {"slot": str(uuid.uuid4())},
        )
        _assert_refused(response, 409)
        assert error_codes(response) == ["slot_unavailable"]
        assert _database_state() == before


class TestQueryParameters:
    @pytest.mark.parametrize(
        ("url", "query"),
        [
            ("/api/v1/slots/", {"date_from": "0001-01-01"}),
            ("/api/v1/slots/", {"date_to": "9999-12-31"}),
            ("/api/v1/slots/", {"doctor": "' OR '1'='1"}),
            ("/api/v1/slots/", {"specialization": "99999999999999999999999"}),
            ("/api/v1/slots/", {"date_from": "2026-02-30"}),
            ("/api/v1/appointments/", {"date_from": "0001-01-01"}),
            ("/api/v1/appointments/", {"date_to": "9999-12-31"}),
            ("/api/v1/appointments/", {"status": "pending' --"}),
            ("/api/v1/doctors/", {"ordering": "password"}),
            ("/api/v1/doctors/", {"specialization": "1; DROP TABLE doctors_doctor"}),
            ("/api/v1/doctors/", {"search": "\x00"}),
            ("/api/v1/patients/", {"search": "x\x00y"}),
            ("/api/v1/appointments/", {"page": "99999999999999999999"}),
            ("/api/v1/appointments/", {"page": "-1"}),
        ],
    )
    def test_bad_query_parameters_are_4xx(self, world, url, query):
        response = world["client"].get(url, query)
        _assert_refused(response, (400, 404))

    @pytest.mark.parametrize(
        "text",
        [
            "'; DROP TABLE appointments_appointment; --",
            "<script>alert(1)</script>",
            "{{7*7}}",
            "${jndi:ldap://x}",
            "Robert'); DELETE FROM accounts_user;--",
        ],
    )
    def test_sql_and_script_fragments_in_text_are_kept_as_plain_data(self, world, text):
        """In free text such fragments are data, stored and returned verbatim, never run;
        where a value must be an id, a date or a choice they are refused (above)."""
        response = world["client"].post(BOOK, {"slot": str(world["slot"].pk), "reason": text})
        assert response.status_code == 201
        assert response.json()["reason"] == text
        search = world["client"].get("/api/v1/doctors/", {"search": text})
        assert search.status_code == 200
        assert search.json()["results"] == []
