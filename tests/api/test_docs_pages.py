"""The OpenAPI schema at /api/schema/, and its docs pages, which load nothing from the
internet."""

import re

import pytest
import yaml
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


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
