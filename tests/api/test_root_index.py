"""`GET /`: a small index of the docs, schema, health and admin URLs for a newcomer."""

import pytest

from tests.api.envelope import envelope

pytestmark = pytest.mark.django_db


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
