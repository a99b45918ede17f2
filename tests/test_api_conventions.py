"""Conventions every endpoint follows (docs/api.md, "Conventions"): the error envelope for every
4xx and 5xx, pagination, health, the schema and its docs pages, request ids."""

import re

import pytest
import yaml
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from django.core.paginator import EmptyPage
from django.db import OperationalError, connection
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.api.pagination import CountingPaginator, IndexOrderedCountingPaginator
from doctors.models import Specialization
from tests.background import redis_cache, refusing_broker_url
from tests.conftest import client_for
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

PATIENTS_URL = "/api/v1/patients/"
SPECIALIZATIONS_URL = "/api/v1/specializations/"
HEALTH_URL = "/api/v1/health/"


def envelope(response, status: int, kind: str) -> list[dict]:
    """The errors of an envelope with `type` `kind`, after checking the status and shape."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"type", "errors"}, body
    assert body["type"] == kind
    assert body["errors"], body
    for error in body["errors"]:
        assert set(error) == {"code", "detail", "attr"}, error
        assert isinstance(error["code"], str)
        assert error["code"]
        assert isinstance(error["detail"], str)
        assert error["detail"]
    return body["errors"]


# The envelope -------------------------------------------------------------------------------


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


# Pagination ---------------------------------------------------------------------------------


@pytest.fixture
def many_specializations(db):
    Specialization.objects.bulk_create(
        Specialization(name=f"Specialization {n:03d}") for n in range(130)
    )


def test_lists_are_paginated_with_count_next_previous_results(anon_client, many_specializations):
    body = anon_client.get(SPECIALIZATIONS_URL).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 130
    assert len(body["results"]) == 20
    assert body["previous"] is None
    assert "page=2" in body["next"]

    second = anon_client.get(body["next"]).json()
    assert second["results"][0]["name"] == "Specialization 020"
    assert second["previous"] is not None


def test_page_size_is_capped_at_100(anon_client, many_specializations):
    body = anon_client.get(SPECIALIZATIONS_URL, {"page_size": 1000}).json()
    assert body["count"] == 130
    assert len(body["results"]) == 100
    last = anon_client.get(SPECIALIZATIONS_URL, {"page_size": 1000, "page": 2}).json()
    assert len(last["results"]) == 30
    assert last["next"] is None


def test_a_smaller_page_size_is_honoured(anon_client, many_specializations):
    body = anon_client.get(SPECIALIZATIONS_URL, {"page_size": 7}).json()
    assert len(body["results"]) == 7


@pytest.mark.parametrize("page", ["999", "0", "last-but-one", str(2**63)])
def test_a_page_beyond_the_end_or_invalid_is_404(anon_client, many_specializations, page):
    response = anon_client.get(SPECIALIZATIONS_URL, {"page": page})
    errors = envelope(response, 404, "client_error")
    assert errors[0]["code"] == "not_found"


def test_the_last_page_by_name(anon_client, many_specializations):
    body = anon_client.get(SPECIALIZATIONS_URL, {"page": "last"}).json()
    assert body["count"] == 130
    assert [row["name"] for row in body["results"]][-1] == "Specialization 129"
    assert len(body["results"]) == 10
    assert body["next"] is None


def test_a_page_and_the_count_are_read_in_one_query(many_specializations):
    specializations = Specialization.objects.order_by("name")
    with CaptureQueriesContext(connection) as queries:
        page = CountingPaginator(specializations, 20).page(7)
    assert len(queries) == 1
    # The count is taken in a subquery and the page is cut outside it, so that PostgreSQL
    # plans the count over all matching rows (core.api.pagination.CountingPaginator.page).
    sql = queries[0]["sql"]
    subquery, outside = sql.rsplit(")", 1)
    assert sql.startswith("SELECT * FROM (")
    assert "COUNT(*) OVER ()" in subquery
    assert "LIMIT" in outside
    assert "LIMIT" not in subquery
    assert page.paginator.count == 130
    assert page.paginator.num_pages == 7
    assert [s.name for s in page] == [f"Specialization {n}" for n in range(120, 130)]
    assert not hasattr(page[0], CountingPaginator.TOTAL)

    rows = CountingPaginator(specializations.values("name"), 100).page(1)
    assert rows.paginator.count == 130
    assert set(rows[0]) == {"name"}


def test_a_list_one_index_orders_counts_without_a_subquery(many_specializations):
    with CaptureQueriesContext(connection) as queries:
        page = IndexOrderedCountingPaginator(Specialization.objects.order_by("name"), 20).page(2)
    (query,) = queries
    assert not query["sql"].startswith("SELECT * FROM (")
    assert "COUNT(*) OVER ()" in query["sql"]
    assert page.paginator.count == 130
    assert page[0].name == "Specialization 020"


@pytest.mark.parametrize("page", [8, 2])
def test_an_empty_page_is_counted_to_tell_past_the_end_from_an_empty_list(db, page):
    with pytest.raises(EmptyPage):
        CountingPaginator(Specialization.objects.order_by("name"), 20).page(page)
    empty = CountingPaginator(Specialization.objects.order_by("name"), 20).page(1)
    assert empty.paginator.count == 0
    assert list(empty) == []


def test_a_list_filtered_on_a_window_is_counted_apart(many_specializations):
    # The page's COUNT(*) OVER () would count the rows before that filter drops some.
    ranked = Specialization.objects.annotate(
        rank=Window(RowNumber(), order_by=F("name").asc())
    ).filter(rank__lte=45)
    page = CountingPaginator(ranked.order_by("name"), 20).page(1)
    assert page.paginator.count == 45


def test_a_distinct_list_is_counted_apart(many_specializations):
    # COUNT(*) OVER () would count the rows before DISTINCT removes the repeated ones.
    names = Specialization.objects.values("name")
    repeated = names.union(names, all=True).order_by("name")
    names = names.order_by("name").distinct()
    assert CountingPaginator(names, 20).page(1).paginator.count == 130
    assert CountingPaginator(repeated, 20).page(1).paginator.count == 260


# Health -------------------------------------------------------------------------------------


def test_health_without_redis(anon_client):
    response = anon_client.get(HEALTH_URL)
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "disabled",
        "cache": "disabled",
    }


def test_health_is_degraded_but_up_when_redis_is_down(anon_client, settings):
    settings.REDIS_URL = refusing_broker_url()
    settings.CACHES = redis_cache(settings.REDIS_URL)
    response = anon_client.get(HEALTH_URL)
    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "database": "ok",
        "broker": "down",
        "cache": "down",
    }


def test_health_with_a_live_redis(anon_client, settings):
    settings.REDIS_URL = django_settings.TEST_REDIS_URL
    settings.CACHES = redis_cache(settings.REDIS_URL)
    response = anon_client.get(HEALTH_URL)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok", "cache": "ok"}


def test_health_is_503_when_the_database_is_unreachable(anon_client, monkeypatch):
    class Unreachable:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr("core.api.health.connection", Unreachable())
    response = anon_client.get(HEALTH_URL)
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "down",
        "broker": "disabled",
        "cache": "disabled",
    }


def test_health_ignores_a_bad_token(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer expired.or.garbage")
    assert client.get(HEALTH_URL).status_code == 200


# Schema and docs ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema_response():
    # Generating the schema is the slow part; it reads no rows, so one fetch serves the module.
    return APIClient().get("/api/schema/")


@pytest.fixture(scope="module")
def schema(schema_response) -> dict:
    return yaml.safe_load(schema_response.content)


def test_the_openapi_schema_is_served(schema_response, schema):
    assert schema_response.status_code == 200
    assert schema["openapi"].startswith("3.")
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/auth/me/",
        "/api/v1/patients/{id}/",
        "/api/v1/doctors/{id}/blacklist/",
        "/api/v1/specializations/",
        "/api/v1/health/",
    ):
        assert path in schema["paths"], path


def test_the_schema_documents_the_error_envelope(schema):
    responses = schema["paths"]["/api/v1/specializations/{id}/"]["delete"]["responses"]
    assert "409" in responses
    assert "specialization_in_use" in str(responses["409"])
    assert "401" in schema["paths"]["/api/v1/auth/me/"]["get"]["responses"]


_URL_ATTRIBUTE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_docs_pages_load_only_local_assets(anon_client, path):
    response = anon_client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    urls = _URL_ATTRIBUTE.findall(html)
    assert urls, html
    remote = [url for url in urls if re.match(r"^(?:https?:)?//", url)]
    assert remote == [], remote
    assert not re.search(r"https?://", html), "the page names a remote address"
    static_url = django_settings.STATIC_URL
    static_url = static_url if static_url.startswith("/") else f"/{static_url}"
    assets = [url for url in urls if url.startswith(static_url)]
    assert any(url.endswith(".js") for url in assets), urls
    for url in assets:
        assert finders.find(url.removeprefix(static_url).split("?")[0]), url


# Request ids --------------------------------------------------------------------------------


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


# The root -------------------------------------------------------------------------------------


def test_the_root_is_an_index_of_the_docs_schema_health_and_admin(anon_client):
    response = anon_client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    index = response.json()
    assert {"docs", "redoc", "schema", "health", "admin"} <= set(index)
    assert index["docs"] == "http://testserver/api/docs/"
    assert anon_client.get(index["docs"]).status_code == 200
    assert anon_client.get(index["redoc"]).status_code == 200
    assert anon_client.get(index["schema"]).status_code == 200
    assert anon_client.get(index["health"]).json()["status"] == "ok"
    assert anon_client.get(index["admin"]).status_code == 302  # to the admin's sign-in page
    # A stale or foreign token does not stand between a newcomer and the index.
    anon_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert anon_client.get("/").status_code == 200


def test_the_root_answers_other_methods_in_the_envelope(anon_client):
    response = anon_client.post("/", {})
    errors = envelope(response, 405, "client_error")
    assert errors[0]["code"] == "method_not_allowed"
