"""The app as it is deployed: production settings (DEBUG off) served by gunicorn.

These tests start real processes against the test database, so what they check is what a
client of `make run` or the `web` container sees: the API answers, the docs and the admin load
their static assets through whitenoise, and an unknown API URL answers in the error envelope.
"""

import json
import re

import pytest

from tests.servers import gunicorn_serving, http_get, manage, production_env


def test_system_check_passes_with_debug_off(tmp_path):
    result = manage(production_env(tmp_path), "check")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.django_db(transaction=True)
def test_gunicorn_serves_the_api_docs_admin_and_static_files_with_debug_off(tmp_path):
    static_root = tmp_path / "static"
    env = production_env(static_root)
    collected = manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    assert collected.returncode == 0, collected.stdout + collected.stderr

    with gunicorn_serving(env) as base:
        status, content_type, body = http_get(f"{base}/api/v1/health/")
        assert (status, content_type) == (200, "application/json"), body
        assert json.loads(body)["status"] == "ok"

        status, _, body = http_get(f"{base}/api/docs/")
        assert status == 200
        assets = re.findall(r"/static/[^\"']+/swagger-ui-bundle[^\"']*\.js", body.decode())
        assert assets, "the Swagger UI page links no static swagger-ui-bundle script"
        status, content_type, _ = http_get(base + assets[0])
        assert status == 200
        assert "javascript" in content_type

        status, _, body = http_get(f"{base}/admin/login/")
        assert status == 200
        assert b"/static/admin/css/" in body
        status, content_type, _ = http_get(f"{base}/static/admin/css/base.css")
        assert (status, content_type.split(";")[0]) == (200, "text/css")

        status, content_type, body = http_get(f"{base}/api/v1/nope/")
        assert (status, content_type) == (404, "application/json"), body
        envelope = json.loads(body)
        assert envelope["type"] == "client_error"
        assert [error["code"] for error in envelope["errors"]] == ["not_found"]
