"""Errors Django raises itself, outside DRF's views (a disallowed Host, a refusal or a crash in
middleware, an unknown URL), answer in the API's envelope; the admin site keeps its HTML."""

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.test import Client

from tests.conftest import error_codes

pytestmark = pytest.mark.django_db

API_PATHS = ["/api/v1/health/", "/api/v1/specializations/", "/api/schema/", "/api/v1/nope/"]


def _client() -> Client:
    return Client(raise_request_exception=False)


def _assert_envelope(response, status: int, code: str):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json", response.content[:300]
    assert error_codes(response) == [code]


@pytest.mark.parametrize("path", API_PATHS)
def test_a_disallowed_host_is_a_400_in_the_envelope(path):
    _assert_envelope(_client().get(path, HTTP_HOST="evil.example"), 400, "bad_request")


@pytest.mark.parametrize(
    ("raised", "status", "code"),
    [
        (SuspiciousOperation("forged header xyzzy"), 400, "bad_request"),
        (PermissionDenied("internal rule xyzzy"), 403, "permission_denied"),
        (RuntimeError("crash xyzzy"), 500, "error"),
    ],
)
@pytest.mark.parametrize("path", API_PATHS)
def test_errors_raised_in_middleware_are_in_the_envelope(monkeypatch, path, raised, status, code):
    def refuse(request):
        raise raised

    # The request-context middleware runs before any view, outside DRF's exception handling.
    monkeypatch.setattr("core.request.client_ip", refuse)
    response = _client().get(path)
    _assert_envelope(response, status, code)
    assert "xyzzy" not in response.content.decode()


@pytest.mark.parametrize("path", ["/admin/", "/no-such-page/"])
def test_pages_outside_the_api_keep_their_html(path):
    response = _client().get(path, HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
